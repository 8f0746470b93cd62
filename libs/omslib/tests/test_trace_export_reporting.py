"""An absent collector is reported once, then left alone with a growing pause, and its
return is reported: against a real OTLP receiver that is stopped and started again."""

from __future__ import annotations

import logging

import pytest
from omslib.telemetry.export_reporting import ReportingExporter
from omslib.testing.otlp import OtlpReceiver
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def one_span(name: str) -> list[ReadableSpan]:
    span = TracerProvider().get_tracer("t").start_span(name)
    span.end()
    return [span]  # type: ignore[list-item]


def test_an_absent_collector_is_said_once_then_backed_off_then_recovery_is_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = OtlpReceiver()
    port = int(receiver.start().rsplit(":", 1)[1])
    receiver.stop()  # the collector goes away; its port stays known
    ticks = Ticks()
    inner = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}", insecure=True, timeout=1)
    exporter = ReportingExporter(inner, f"127.0.0.1:{port}", clock=ticks, base_seconds=1.0)
    caplog.set_level(logging.DEBUG)
    try:
        assert exporter.export(one_span("a")) is SpanExportResult.FAILURE
        said = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert any("cannot export traces" in r.getMessage() for r in said)
        caplog.clear()

        # Within the pause nothing is tried (and nothing logged): spans are dropped.
        ticks.now += 0.5
        assert exporter.export(one_span("b")) is SpanExportResult.FAILURE
        # After it, one more try fails quietly and doubles the pause.
        ticks.now += 1.0
        assert exporter.export(one_span("c")) is SpanExportResult.FAILURE
        ticks.now += 1.5  # less than the doubled pause of 2 s
        assert exporter.export(one_span("d")) is SpanExportResult.FAILURE
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []

        receiver.start(port)  # the collector comes back
        ticks.now += 1.0
        assert exporter.export(one_span("e")) is SpanExportResult.SUCCESS
        assert [s.name for s in receiver.wait_for(lambda spans: bool(spans))] == ["e"]
        (recovered,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert "works again" in recovered.getMessage()
        assert "4 spans were dropped" in recovered.getMessage()
    finally:
        exporter.shutdown()
        receiver.stop()
