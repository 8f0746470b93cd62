"""A paid order cancelled before shipment owes its payment back: orders shows the refund
owed, aftersales hears it on oms.orders and starts the refund once, paid at the provider."""

from __future__ import annotations

from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as apb_svc
from oms.orders.v1 import order_pb2
from oms.orders.v1 import orders_service_pb2 as opb
from omslib.testing.polling import eventually


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

    async def refunded_once() -> list[apb.Refund]:
        # the event travels orders -> Redis -> aftersales, then a timer starts the refund
        listed = await stack.aftersales.ListRefunds(apb_svc.ListRefundsRequest(order=order.name))
        done = [r.state for r in listed.refunds] == [apb.REFUND_STATE_REFUNDED]
        return list(listed.refunds) if done else []

    refunds = await eventually(refunded_once, what="the owed refund to be paid")
    assert refunds[0].amount.minor_units == order.total.minor_units
    assert stack.payments.total_paid == order.total.minor_units
    assert sum(stack.payments.payments.values()) == 1

    async def recorded_on_the_order() -> bool:  # the Confirm runs after the payout is logged
        return (await stack.order(order.name)).refunded == order.total

    await eventually(recorded_on_the_order, what="orders to record the refund")
