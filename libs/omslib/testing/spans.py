"""One way for a test to see the spans the code under test finished.

Spans come from the process-wide provider (installed with ``setup_tracing`` if no SDK
provider is set yet), as the services' own spans do, so a test sees exactly what a
service would export. The SDK cannot remove a processor from a provider, and a
shut-down exporter warns on every later span of the session, so a capture that ends
stops recording instead of detaching.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from omslib.telemetry import setup_tracing


class _Recorder(SpanProcessor):
    """Hands finished spans to an in-memory exporter until told to stop."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter
        self.recording = True

    def on_end(self, span: ReadableSpan) -> None:
        if self.recording:
            self.exporter.export([span])


def global_provider(service: str = "oms-tests") -> TracerProvider:
    """The process-wide SDK provider; installed (named ``service``) if none is yet."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    return setup_tracing(service)


@contextmanager
def capture_spans(service: str = "oms-tests") -> Iterator[InMemorySpanExporter]:
    """The spans finished while inside the block (``get_finished_spans()``)."""
    exporter = InMemorySpanExporter()
    recorder = _Recorder(exporter)
    global_provider(service).add_span_processor(recorder)
    try:
        yield exporter
    finally:
        recorder.recording = False
        exporter.clear()
