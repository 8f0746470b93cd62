"""One trace links the steps of a refund call: aftersales' RPC, the TCC Try and Confirm,
orders' freeze methods (over gRPC) and the payout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.type.v1 import money_pb2
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class _Recorder(SpanProcessor):
    """Records finished spans until detached (a provider cannot drop a processor)."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter
        self.recording = True

    def on_end(self, span: ReadableSpan) -> None:
        if self.recording:
            self.exporter.export([span])


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    recorder = _Recorder(exporter)
    provider.add_span_processor(recorder)
    try:
        yield exporter
    finally:
        recorder.recording = False
        exporter.clear()


async def test_a_refund_is_one_trace_across_aftersales_and_orders(
    refund_stack, spans: InMemorySpanExporter
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("T1", [("TEE", 1)])
    spans.clear()
    reply = await s.aftersales.RequestRefund(
        pb.RequestRefundRequest(
            order=order.name,
            amount=money_pb2.Money(minor_units=100, currency_code="CNY"),
            request_id="r-t1",
        )
    )
    assert reply.refund.state == apb.REFUND_STATE_REFUNDED
    finished = spans.get_finished_spans()
    root = [sp for sp in finished if sp.name.endswith("AftersalesService/RequestRefund")]
    assert root, sorted({sp.name for sp in finished})
    trace_id = root[-1].context.trace_id
    in_trace = {sp.name for sp in finished if sp.context.trace_id == trace_id}
    for fragment in (
        "tcc.try",
        "OrdersService/TryFreezeRefund",
        "tcc.confirm",
        "OrdersService/ConfirmFreezeRefund",
    ):
        assert any(fragment in name for name in in_trace), (fragment, sorted(in_trace))
