import io
import json
import logging
from collections.abc import Iterator

import pytest
from omslib.telemetry import (
    SPAN_ATTR_ORDER_ID,
    build_tracer_provider,
    configure_logging,
    context_from_traceparent,
    current_traceparent,
)
from omslib.telemetry.logs import JsonFormatter
from omslib.telemetry.tracing import exporter_names
from omslib.testing.otlp import OtlpReceiver
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4317"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ["otlp", "console"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, []),
    ],
)
def test_exporters_follow_standard_variables(env: dict[str, str], expected: list[str]) -> None:
    assert exporter_names(env) == expected


def test_unknown_exporter_is_rejected() -> None:
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER"):
        exporter_names({"OTEL_TRACES_EXPORTER": "zipkin"})


def test_service_name_prefers_otel_service_name() -> None:
    provider = build_tracer_provider("orders", {"OTEL_SERVICE_NAME": "orders-canary"})
    assert provider.resource.attributes["service.name"] == "orders-canary"
    assert build_tracer_provider("orders", {}).resource.attributes["service.name"] == "orders"


def test_traceparent_round_trips_through_storage() -> None:
    tracer = TracerProvider().get_tracer("t")
    assert current_traceparent() is None
    with tracer.start_as_current_span("push") as span:
        stored = current_traceparent()
    assert stored is not None
    parent = trace.get_current_span(context_from_traceparent(stored)).get_span_context()
    assert parent.trace_id == span.get_span_context().trace_id
    assert parent.span_id == span.get_span_context().span_id
    assert not trace.get_current_span(context_from_traceparent(None)).get_span_context().is_valid


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("orders", "info")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("orders"))
    root.handlers[:] = [handler]
    yield stream
    root.handlers[:], root.level = saved


def test_logs_are_json_lines_with_trace_ids(log_stream: io.StringIO) -> None:
    tracer = TracerProvider().get_tracer("t")
    log = logging.getLogger("oms.test")
    log.info("outside")
    with tracer.start_as_current_span("op") as span:
        log.warning("inside %s", "span", extra={"order_id": "o-1"})
        try:
            raise KeyError("k")
        except KeyError:
            log.exception("failed")
    outside, inside, failed = (json.loads(line) for line in log_stream.getvalue().splitlines())
    assert outside["trace_id"] == "" and outside["span_id"] == ""
    assert outside["service"] == "orders" and outside["level"] == "INFO"
    assert outside["ts"].endswith("+00:00")
    ctx = span.get_span_context()
    assert inside["trace_id"] == format(ctx.trace_id, "032x")
    assert inside["span_id"] == format(ctx.span_id, "016x")
    assert inside["msg"] == "inside span" and inside["order_id"] == "o-1"
    assert inside["logger"] == "oms.test"
    assert "KeyError" in failed["exc"]


def test_otlp_receiver_sees_exported_spans(otlp_receiver: OtlpReceiver) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "probe"}))
    exporter = OTLPSpanExporter(endpoint=otlp_receiver.endpoint, insecure=True)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("parent"), tracer.start_as_current_span("child") as child:
        child.set_attribute(SPAN_ATTR_ORDER_ID, "o-42")
    provider.shutdown()
    (received,) = otlp_receiver.wait_for(lambda s: s.name == "child")
    (parent,) = otlp_receiver.wait_for(lambda s: s.name == "parent")
    assert received.service == "probe"
    assert received.attributes[SPAN_ATTR_ORDER_ID] == "o-42"
    assert received.parent_span_id == parent.span_id
    assert received.trace_id == parent.trace_id
    assert parent.parent_span_id == ""
    assert received.kind == "SPAN_KIND_INTERNAL"
