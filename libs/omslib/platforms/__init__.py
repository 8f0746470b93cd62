"""What the gateway, the CLI and the tests share about the marketplaces without importing
the gateway: their names, how each one signs a push, and correctly signed sample pushes."""
