"""gRPC entry points: translate and delegate, never decide."""
