"""Persistence and clients of other services."""
