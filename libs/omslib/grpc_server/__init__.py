"""gRPC server bootstrap: health, reflection, error mapping, graceful shutdown."""

from omslib.grpc_server.errors_interceptor import ErrorMappingInterceptor
from omslib.grpc_server.service import GrpcService, run_until_signalled

__all__ = ["ErrorMappingInterceptor", "GrpcService", "run_until_signalled"]
