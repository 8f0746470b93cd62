"""Carry trace context through storage (inbox rows, outbox rows, stream entries)."""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, or None when there is none."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(tp: str | None) -> Context:
    """A context whose parent is ``tp``; an empty context when ``tp`` is missing/invalid."""
    if not tp:
        return Context()
    return _PROPAGATOR.extract({"traceparent": tp}, context=Context())
