"""Return and refund through the real servers: the goods are expected at inventory from
the request; a receipt that matches pays at once, one that differs (a damaged unit)
holds the refund for an agent; Confirm restocks by disposition, exactly once."""

from __future__ import annotations

import grpc
import pytest
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.inventory.v1 import inventory_service_pb2 as ipb
from oms.type.v1 import money_pb2
from omslib.testing.polling import eventually

UNIT = 1999


def cny(units: int) -> money_pb2.Money:
    return money_pb2.Money(minor_units=units, currency_code="CNY")


async def stock(s, sku: str):  # type: ignore[no-untyped-def]
    return (await s.inventory.GetStock(ipb.GetStockRequest(sku=sku, warehouse_code="HZ1"))).stock


def return_request(order, request_id: str, units: int, quantity: int) -> pb.RequestRefundRequest:  # type: ignore[no-untyped-def]
    return pb.RequestRefundRequest(
        order=order.name,
        amount=cny(units),
        request_id=request_id,
        return_lines=[apb.ReturnLine(sku="TEE", quantity=quantity)],
        reason="does not fit",
    )


async def test_a_damaged_unit_holds_the_refund_then_each_unit_is_restocked_by_condition(
    refund_stack,
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("B1", [("TEE", 2)], shipped=True)
    before = await stock(s, "TEE")
    ticket = (
        await s.aftersales.CreateTicket(
            pb.CreateTicketRequest(
                request_id="t-b1",
                channel=apb.CHANNEL_WEB_FORM,
                merchant_id="m1",
                customer=apb.CustomerIdentity(phone="13800000000"),
                order=order.name,
                text="please take them back",
                operator="agent:li",
            )
        )
    ).ticket
    ask = return_request(order, "r-b1", 2 * UNIT, 2)
    ask.ticket = ticket.name
    refund = (await s.aftersales.RequestRefund(ask)).refund
    assert refund.state == apb.REFUND_STATE_AWAITING_RETURN and refund.ticket == ticket.name
    scan = pb.ReceiveReturnRequest(
        name=refund.name,
        warehouse_code="HZ1",
        request_id="scan-b1",
        actor="operator:hz1-dock",
        lines=[
            pb.ReceivedUnits(sku="TEE", quantity=1),
            pb.ReceivedUnits(sku="TEE", quantity=1, damaged=True),
        ],
    )
    held = (await s.aftersales.ReceiveReturn(scan)).refund
    assert held.state == apb.REFUND_STATE_RECEIVED
    assert held.differences == ["DAMAGED TEE 1"]
    assert (await s.aftersales.ReceiveReturn(scan)).refund.state == apb.REFUND_STATE_RECEIVED
    assert not s.payments.payments  # nothing paid while held
    done = await s.aftersales.ApproveRefund(
        pb.ApproveRefundRequest(name=refund.name, operator="agent:li", note="refund in full")
    )
    assert done.refund.state == apb.REFUND_STATE_REFUNDED
    assert s.payments.payments == {f"refund-{refund.refund_id}": 1}
    after = await stock(s, "TEE")
    assert after.on_hand == before.on_hand + 1  # the resellable unit
    assert after.damaged == before.damaged + 1  # the damaged one, apart
    assert (await s.order(order.name)).refunded.minor_units == 2 * UNIT
    of_ticket = await s.aftersales.ListRefunds(pb.ListRefundsRequest(ticket=ticket.name))
    assert [r.name for r in of_ticket.refunds] == [refund.name]
    shown = await s.aftersales.GetTicket(pb.GetTicketRequest(name=ticket.name))
    assert [(r.name, r.state) for r in shown.refunds] == [(refund.name, apb.REFUND_STATE_REFUNDED)]
    resolved = await s.aftersales.ResolveTicket(
        pb.ResolveTicketRequest(name=ticket.name, resolution="refunded", operator="agent:li")
    )
    assert resolved.ticket.state == apb.TICKET_STATE_RESOLVED


async def test_goods_as_expected_pay_at_once_and_a_second_return_cannot_exceed_the_sale(
    refund_stack, error_info
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("B2", [("TEE", 2)], shipped=True)
    before = await stock(s, "TEE")
    refund = (await s.aftersales.RequestRefund(return_request(order, "r-b2", UNIT, 1))).refund
    with pytest.raises(grpc.aio.AioRpcError) as refused:  # only one more unit was sold
        await s.aftersales.RequestRefund(return_request(order, "r-b2-again", 1, 2))
    assert error_info(refused.value).reason == "RETURN_EXCEEDS_DEDUCTED"
    assert (await s.order(order.name)).refund_frozen.minor_units == UNIT  # released again
    paid = await s.aftersales.ReceiveReturn(
        pb.ReceiveReturnRequest(
            name=refund.name,
            warehouse_code="HZ1",
            request_id="scan-b2",
            lines=[pb.ReceivedUnits(sku="TEE", quantity=1)],
        )
    )
    assert paid.refund.state == apb.REFUND_STATE_REFUNDED
    assert (await stock(s, "TEE")).on_hand == before.on_hand + 1


async def test_cancelling_a_return_releases_the_freeze_and_the_expectation(
    refund_stack, error_info
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("B3", [("TEE", 1)], shipped=True)
    refund = (await s.aftersales.RequestRefund(return_request(order, "r-b3", UNIT, 1))).refund
    cancelled = await s.aftersales.CancelRefund(
        pb.CancelRefundRequest(name=refund.name, operator="customer", reason="kept it")
    )
    assert cancelled.refund.state == apb.REFUND_STATE_CANCELLED
    assert (await s.order(order.name)).refundable.minor_units == UNIT
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await s.aftersales.ReceiveReturn(
            pb.ReceiveReturnRequest(
                name=refund.name,
                warehouse_code="HZ1",
                request_id="scan-b3",
                lines=[pb.ReceivedUnits(sku="TEE", quantity=1)],
            )
        )
    info = error_info(late.value)
    assert (info.reason, info.metadata["from_state"]) == ("ILLEGAL_REFUND_MOVE", "CANCELLED")
    again = (await s.aftersales.RequestRefund(return_request(order, "r-b3-2", UNIT, 1))).refund
    assert again.state == apb.REFUND_STATE_AWAITING_RETURN  # the unit is expected once more


async def test_an_unknown_payout_outcome_is_retried_with_the_same_key_and_pays_once(
    refund_stack,
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("B4", [("TEE", 1)])
    s.payments.script = ["late", "fail"]  # paid but answered too late, then a 500
    refund = (
        await s.aftersales.RequestRefund(
            pb.RequestRefundRequest(order=order.name, amount=cny(1000), request_id="r-b4")
        )
    ).refund
    assert refund.state == apb.REFUND_STATE_REFUNDING

    async def refunded() -> apb.Refund | None:  # the payout worker retries (every 0.1 s here)
        shown = (await s.aftersales.GetRefund(pb.GetRefundRequest(name=refund.name))).refund
        return shown if shown.state == apb.REFUND_STATE_REFUNDED else None

    shown = await eventually(refunded, what="the refund paid after the retries")
    assert shown.state == apb.REFUND_STATE_REFUNDED
    key = f"refund-{refund.refund_id}"
    assert s.payments.payments == {key: 1}
    assert set(s.payments.requests) == {key} and len(s.payments.requests) >= 3

    async def recorded_on_the_order() -> bool:  # the Confirm runs after the payout is logged
        return (await s.order(order.name)).refunded.minor_units == 1000

    await eventually(recorded_on_the_order, what="orders to record the refund")


async def test_a_refused_payout_fails_the_refund_and_releases_the_freeze(refund_stack) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("B5", [("TEE", 1)])
    s.payments.script = ["refuse"]
    refund = (
        await s.aftersales.RequestRefund(
            pb.RequestRefundRequest(order=order.name, amount=cny(1000), request_id="r-b5")
        )
    ).refund
    assert refund.state == apb.REFUND_STATE_FAILED
    assert refund.state_reason == "PAYOUT_REFUSED: PAYMENT_NOT_REFUNDABLE"
    after = await s.order(order.name)
    assert after.refundable.minor_units == UNIT and not after.HasField("refunded")


async def test_a_return_without_an_amount_is_priced_by_line_at_the_order_price(
    refund_stack,
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("B6", [("TEE", 2)], shipped=True)
    by_line = pb.RequestRefundRequest(
        order=order.name,
        request_id="r-b6",
        return_lines=[apb.ReturnLine(sku="TEE", quantity=1)],
        shipping_amount=cny(300),
    )
    refund = (await s.aftersales.RequestRefund(by_line)).refund
    assert refund.amount.minor_units == UNIT + 300
    assert refund.shipping_amount.minor_units == 300
    assert (await s.order(order.name)).refund_frozen.minor_units == UNIT + 300
    for bad in (
        pb.RequestRefundRequest(
            order=order.name,
            request_id="r-b6-other",
            return_lines=[apb.ReturnLine(sku="HAT", quantity=1)],
        ),
        pb.RequestRefundRequest(order=order.name, request_id="r-b6-none"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await s.aftersales.RequestRefund(bad)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (await s.order(order.name)).refund_frozen.minor_units == UNIT + 300
