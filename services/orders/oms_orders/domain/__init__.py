"""Pure order model and rules: no SQLAlchemy, no gRPC, no generated protos."""
