"""The current trace, for audit entries that link back to Jaeger."""

from __future__ import annotations

from opentelemetry import trace


def current_trace_id() -> str:
    """The 32-hex trace id of the current span, or "" outside any trace."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else ""
