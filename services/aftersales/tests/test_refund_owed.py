"""A paid order cancelled before shipment owes its payment back: orders shows the refund
owed, aftersales hears it on oms.orders and starts the refund once, paid at the provider."""

from __future__ import annotations

import asyncio

from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as apb_svc
from oms.orders.v1 import order_pb2
from oms.orders.v1 import orders_service_pb2 as opb


async def test_a_paid_order_cancelled_unshipped_is_refunded_once(refund_stack) -> None:  # type: ignore[no-untyped-def]
    stack = refund_stack
    await stack.put_stock("TEE", 10)
    order = await stack.paid_order("OWED-1", [("TEE", 1)])
    cancelled = (
        await stack.orders.CancelOrder(
            opb.CancelOrderRequest(name=order.name, reason="buyer changed their mind")
        )
    ).order
    assert cancelled.state == order_pb2.ORDER_STATE_CANCELLED
    assert cancelled.refund_owed == order.total

    refunds: list[apb.Refund] = []
    for _ in range(300):  # the event travels orders -> Redis -> aftersales, then a timer
        listed = await stack.aftersales.ListRefunds(apb_svc.ListRefundsRequest(order=order.name))
        refunds = list(listed.refunds)
        if refunds and refunds[0].state == apb.REFUND_STATE_REFUNDED:
            break
        await asyncio.sleep(0.1)
    assert [r.state for r in refunds] == [apb.REFUND_STATE_REFUNDED]
    assert refunds[0].amount.minor_units == order.total.minor_units
    assert stack.payments.total_paid == order.total.minor_units
    assert sum(stack.payments.payments.values()) == 1
    refunded = await stack.order(order.name)
    assert refunded.refunded == order.total
