"""Use cases: take a command, open a unit of work, call the domain, commit."""
