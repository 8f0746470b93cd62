"""Thin, idempotent wrappers over the OpenTelemetry auto-instrumentations we use."""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]


def _once(instrumentor: BaseInstrumentor) -> None:
    # Instrumentors are singletons that log a warning when instrumented twice.
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


def instrument_grpc_server() -> None:
    """Make every later ``grpc.aio.server(...)`` produce server spans."""
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer

    _once(GrpcAioInstrumentorServer())


def instrument_grpc_client() -> None:
    """Make every later ``grpc.aio.*_channel(...)`` produce client spans and propagate context."""
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient

    _once(GrpcAioInstrumentorClient())


def instrument_redis() -> None:
    """Spans for redis-py commands (sync and asyncio clients)."""
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    _once(RedisInstrumentor())


def instrument_httpx() -> None:
    """Spans and context propagation for all httpx clients."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    _once(HTTPXClientInstrumentor())


def instrument_fastapi(app: Any) -> None:
    """Server spans for one FastAPI app; a second call on the same app is a no-op."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    if getattr(app, "_is_instrumented_by_opentelemetry", False):
        return
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
