"""Pollers for channels that cannot push: fetch orders modified since a durable cursor and
feed them into the same inbox and delivery pipeline as webhooks."""
