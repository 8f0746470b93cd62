"""Tracing, instrumentation and structured logging, configured from OTEL_* variables."""

from omslib.telemetry.attributes import (
    SPAN_ATTR_BRANCH,
    SPAN_ATTR_GID,
    SPAN_ATTR_ORDER_ID,
    SPAN_ATTR_PLATFORM,
)
from omslib.telemetry.instrument import (
    instrument_fastapi,
    instrument_grpc_client,
    instrument_grpc_server,
    instrument_httpx,
    instrument_redis,
)
from omslib.telemetry.logs import configure_logging
from omslib.telemetry.propagation import context_from_traceparent, current_traceparent
from omslib.telemetry.tracing import build_tracer_provider, setup_tracing

__all__ = [
    "SPAN_ATTR_BRANCH",
    "SPAN_ATTR_GID",
    "SPAN_ATTR_ORDER_ID",
    "SPAN_ATTR_PLATFORM",
    "build_tracer_provider",
    "configure_logging",
    "context_from_traceparent",
    "current_traceparent",
    "instrument_fastapi",
    "instrument_grpc_client",
    "instrument_grpc_server",
    "instrument_httpx",
    "instrument_redis",
    "setup_tracing",
]
