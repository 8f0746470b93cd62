"""One trace links the steps of a refund call: aftersales' RPC, the TCC Try and Confirm,
orders' freeze methods (over gRPC) and the payout."""

from __future__ import annotations

from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.type.v1 import money_pb2
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


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
