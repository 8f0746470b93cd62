"""Refunds through the real aftersales, orders and inventory servers: the TCC freezes
the amount at request time, money goes out once on the original path, the order
records it, and illegal moves are refused naming both states."""

from __future__ import annotations

import grpc
import pytest
import sqlalchemy as sa
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.type.v1 import money_pb2, platform_pb2
from oms_aftersales.adapters import orm
from omslib.testing.polling import eventually

UNIT = 1999


def cny(units: int) -> money_pb2.Money:
    return money_pb2.Money(minor_units=units, currency_code="CNY")


def ask(order, request_id: str, units: int, **fields) -> pb.RequestRefundRequest:  # type: ignore[no-untyped-def]
    return pb.RequestRefundRequest(
        order=order.name, amount=cny(units), request_id=request_id, reason="test", **fields
    )


async def test_refund_only_of_an_unshipped_order_under_the_threshold_is_paid_at_once(
    refund_stack,
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("A1", [("TEE", 2)])
    reply = await s.aftersales.RequestRefund(ask(order, "r-a1", 1000, shipping_amount=cny(500)))
    refund = reply.refund
    assert refund.state == apb.REFUND_STATE_REFUNDED and not reply.duplicate
    assert refund.amount.minor_units == 1500 and refund.shipping_amount.minor_units == 500
    assert refund.payout_path == "payment_api" and refund.payout_reference == "re_1"
    assert refund.approved_by == "rules"
    again = await s.aftersales.RequestRefund(ask(order, "r-a1", 1000, shipping_amount=cny(500)))
    assert again.duplicate and again.refund.name == refund.name
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await s.aftersales.RequestRefund(ask(order, "r-a1", 999))
    assert reused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert s.payments.payments == {f"refund-{refund.refund_id}": 1}
    assert s.payments.paid[f"refund-{refund.refund_id}"]["payment_reference"] == "PAY-A1"
    after = await s.order(order.name)
    assert after.refunded.minor_units == 1500
    assert after.refundable.minor_units == 2 * UNIT - 1500
    shown = await s.aftersales.GetRefund(pb.GetRefundRequest(name=refund.name))
    assert [a.to_state for a in shown.audit] == [
        apb.REFUND_STATE_REQUESTED,
        apb.REFUND_STATE_APPROVED,
        apb.REFUND_STATE_REFUNDING,
        apb.REFUND_STATE_REFUNDED,
    ]
    box = orm.outbox.outbox.c
    async with s.app.engine.connect() as conn:  # one RefundChanged per audit row, same stream
        rows = (
            await conn.execute(
                sa.select(box.event_type, box.stream).where(box.aggregate_id == refund.refund_id)
            )
        ).all()
    assert len(rows) == 4
    assert {(t.rsplit(".", 1)[-1], stream) for t, stream in rows} == {
        ("RefundChanged", "oms.aftersales")
    }


async def test_a_request_above_the_refundable_amount_is_refused_with_the_amount(
    refund_stack, error_info
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("A2", [("TEE", 1)], shipped=True)
    first = await s.aftersales.RequestRefund(ask(order, "r-a2-1", 1500))
    assert first.refund.state == apb.REFUND_STATE_REQUESTED  # shipped: waits for an agent
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await s.aftersales.RequestRefund(ask(order, "r-a2-2", UNIT - 1500 + 1))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(refused.value)
    assert info.reason == "REFUND_EXCEEDS_REFUNDABLE"
    assert info.metadata["refundable"] == str(UNIT - 1500)
    stored = await s.aftersales.GetRefund(
        pb.GetRefundRequest(name=f"refunds/{info.metadata['refund_id']}")
    )
    assert stored.refund.state == apb.REFUND_STATE_REJECTED
    assert stored.refund.state_reason.startswith("REFUND_EXCEEDS_REFUNDABLE")
    assert not s.payments.payments


async def test_an_agent_approves_or_rejects_and_illegal_moves_name_both_states(
    refund_stack, error_info
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("A3", [("TEE", 2)], shipped=True)
    one = (await s.aftersales.RequestRefund(ask(order, "r-a3-1", 1000))).refund
    two = (await s.aftersales.RequestRefund(ask(order, "r-a3-2", 800))).refund
    assert (await s.order(order.name)).refund_frozen.minor_units == 1800
    approved = await s.aftersales.ApproveRefund(
        pb.ApproveRefundRequest(name=one.name, operator="agent:li", note="ok")
    )
    assert approved.refund.state == apb.REFUND_STATE_REFUNDED
    assert approved.refund.approved_by == "agent:li"
    rejected = await s.aftersales.RejectRefund(
        pb.RejectRefundRequest(name=two.name, operator="agent:li", reason="not eligible")
    )
    assert rejected.refund.state == apb.REFUND_STATE_REJECTED
    after = await s.order(order.name)
    assert after.refunded.minor_units == 1000 and not after.HasField("refund_frozen")
    assert after.refundable.minor_units == 2 * UNIT - 1000
    with pytest.raises(grpc.aio.AioRpcError) as illegal:
        await s.aftersales.ApproveRefund(pb.ApproveRefundRequest(name=two.name, operator="x"))
    info = error_info(illegal.value)
    assert illegal.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (info.reason, info.metadata["from_state"], info.metadata["to_state"]) == (
        "ILLEGAL_REFUND_MOVE",
        "REJECTED",
        "APPROVED",
    )
    listed = await s.aftersales.ListRefunds(pb.ListRefundsRequest(order=order.name, page_size=1))
    assert len(listed.refunds) == 1 and listed.next_page_token
    rest = await s.aftersales.ListRefunds(
        pb.ListRefundsRequest(order=order.name, page_token=listed.next_page_token)
    )
    assert {r.name for r in [*listed.refunds, *rest.refunds]} == {one.name, two.name}
    assert s.payments.payments == {f"refund-{one.refund_id}": 1}


async def test_bad_input_is_refused_and_changes_nothing(refund_stack) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("A4", [("TEE", 1)])
    for bad in (
        ask(order, "r-a4", 0),  # nothing to refund
        pb.RequestRefundRequest(order=order.name, amount=cny(10)),  # no request id
        pb.RequestRefundRequest(
            order=order.name,
            amount=money_pb2.Money(minor_units=10, currency_code="USD"),
            request_id="r-a4-usd",
        ),
        ask(order, "r-a4-dup", 10, return_lines=[apb.ReturnLine(sku="TEE", quantity=1)] * 2),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await s.aftersales.RequestRefund(bad)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as no_ticket:
        await s.aftersales.RequestRefund(ask(order, "r-a4-t", 10, ticket="tickets/NOPE"))
    assert no_ticket.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await s.aftersales.ListRefunds(pb.ListRefundsRequest(order=order.name))
    assert not listed.refunds
    assert (await s.order(order.name)).refundable.minor_units == UNIT


async def test_a_marketplace_refund_is_paid_by_the_platform_and_recorded_once(
    refund_stack, error_info
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("A5", [("TEE", 2)], platform=platform_pb2.PLATFORM_TAOBAO)
    ours = (await s.aftersales.RequestRefund(ask(order, "r-a5", 1000))).refund
    assert ours.state == apb.REFUND_STATE_REFUNDING and ours.payout_path == "platform"
    push = pb.RecordPlatformRefundRequest(
        order=order.name, platform_refund_id="tb-rf-1", amount=cny(1000)
    )
    recorded = await s.aftersales.RecordPlatformRefund(push)
    assert recorded.refund.name == ours.name and not recorded.duplicate
    assert recorded.refund.state == apb.REFUND_STATE_REFUNDED
    assert recorded.refund.payout_reference == "tb-rf-1"
    repeat = await s.aftersales.RecordPlatformRefund(push)
    assert repeat.duplicate and repeat.refund.name == ours.name
    # A refund the platform made on its own: a refund of ours is created for it.
    own = await s.aftersales.RecordPlatformRefund(
        pb.RecordPlatformRefundRequest(
            order=order.name, platform_refund_id="tb-rf-2", amount=cny(500)
        )
    )
    assert own.refund.name != ours.name and own.refund.state == apb.REFUND_STATE_REFUNDED
    after = await s.order(order.name)
    assert after.refunded.minor_units == 1500
    assert not s.payments.requests  # never through the payment API
    shop = await s.paid_order("A6", [("TEE", 1)])
    with pytest.raises(grpc.aio.AioRpcError) as not_ours:  # paid by our payment API instead
        await s.aftersales.RecordPlatformRefund(
            pb.RecordPlatformRefundRequest(
                order=shop.name, platform_refund_id="x-1", amount=cny(100)
            )
        )
    assert error_info(not_ours.value).reason == "NOT_A_MARKETPLACE_ORDER"
    assert not (await s.order(shop.name)).HasField("refunded")


async def test_a_platform_refund_named_by_the_platforms_order_id_waits_for_the_order(
    refund_stack, error_info
) -> None:  # type: ignore[no-untyped-def]
    """The gateway knows only the platform's ids: a refund push that overtakes the order's
    events is refused as retryable, and recorded once aftersales knows the order."""
    s = refund_stack
    await s.put_stock("TEE", 10)
    ticket = (
        await s.aftersales.CreateTicket(
            pb.CreateTicketRequest(
                request_id="case-a7",
                channel=apb.CHANNEL_PLATFORM_AFTERSALE,
                customer=apb.CustomerIdentity(platform=platform_pb2.PLATFORM_TAOBAO, buyer_id="b"),
                text="refund please",
            )
        )
    ).ticket
    push = pb.RecordPlatformRefundRequest(
        platform_order=apb.PlatformOrderRef(
            platform=platform_pb2.PLATFORM_TAOBAO, platform_order_id="A7"
        ),
        platform_refund_id="tb-rf-7",
        amount=cny(700),
        ticket=ticket.name,
    )
    with pytest.raises(grpc.aio.AioRpcError) as early:
        await s.aftersales.RecordPlatformRefund(push)
    assert early.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(early.value).reason == "ORDER_NOT_KNOWN_YET"
    order = await s.paid_order("A7", [("TEE", 1)], platform=platform_pb2.PLATFORM_TAOBAO)

    async def recorded() -> pb.RecordPlatformRefundResponse | None:
        try:
            return await s.aftersales.RecordPlatformRefund(push)
        except grpc.aio.AioRpcError as err:  # until oms.orders brings the order
            assert error_info(err).reason == "ORDER_NOT_KNOWN_YET"
            return None

    reply = await eventually(recorded, what="aftersales to know the order")
    assert reply.refund.state == apb.REFUND_STATE_REFUNDED and not reply.duplicate
    assert reply.refund.order == order.name and reply.refund.ticket == ticket.name
    assert (await s.aftersales.RecordPlatformRefund(push)).duplicate
    with pytest.raises(grpc.aio.AioRpcError) as both:  # one way of naming the order only
        await s.aftersales.RecordPlatformRefund(
            pb.RecordPlatformRefundRequest(
                order=order.name,
                platform_order=push.platform_order,
                platform_refund_id="tb-rf-8",
                amount=cny(1),
            )
        )
    assert both.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    async def refunded_on_the_order() -> bool:
        return (await s.order(order.name)).refunded.minor_units == 700

    await eventually(refunded_on_the_order, what="orders to record the refund")


async def test_a_marketplace_refund_the_platform_never_reports_is_raised_as_overdue(
    refund_stack, caplog
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("A9", [("TEE", 1)], platform=platform_pb2.PLATFORM_JD)
    ours = (await s.aftersales.RequestRefund(ask(order, "r-a9", 900))).refund
    assert ours.state == apb.REFUND_STATE_REFUNDING and ours.payout_path == "platform"

    def raised() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if getattr(r, "code", "") == "REFUND_PLATFORM_OVERDUE"
            and getattr(r, "refund_id", "") == ours.refund_id
        ]

    (line, *_) = await eventually(raised, what="the overdue refund to be raised")
    assert order.order_id in line and "seller console" in line
    assert not s.payments.requests  # raised, never paid by us instead
    done = await s.aftersales.RecordPlatformRefund(
        pb.RecordPlatformRefundRequest(order=order.name, platform_refund_id="jd-9", amount=cny(900))
    )
    assert done.refund.name == ours.name and done.refund.state == apb.REFUND_STATE_REFUNDED
