"""Orders as the refund TCC participant: the freeze is checked and taken in one
conditional update, so concurrent refunds can never exceed what was paid."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from oms.orders.v1 import order_pb2 as OP
from oms.orders.v1 import orders_service_pb2 as pb
from oms.tcc.v1 import tcc_pb2
from oms.type.v1 import address_pb2, money_pb2

FULL_ADDRESS = address_pb2.Address(
    province="Zhejiang", city="Hangzhou", line1="1 Lake Rd", recipient_name="Li", phone="138"
)


@pytest.fixture
def paid_order(orders_stub, sync, make_snapshot, put_stock, pay_request):  # type: ignore[no-untyped-def]
    """``await paid_order(order_id)``: a placed and paid order of 2 TEE."""

    async def make(order_id: str) -> OP.Order:
        await put_stock("TEE", 100)
        snap = make_snapshot(order_id, [("TEE", 2)])
        snap.shipping_address.CopyFrom(FULL_ADDRESS)
        order = (await sync(snap)).order
        return (await orders_stub.RecordPayment(pay_request(order))).order

    return make


def freeze(order: OP.Order, gid: str, units: int) -> pb.TryFreezeRefundRequest:
    return pb.TryFreezeRefundRequest(
        tcc=tcc_pb2.TccContext(gid=gid, branch_id="orders-01"),
        order=order.name,
        amount=money_pb2.Money(minor_units=units, currency_code=order.total.currency_code),
    )


def branch(gid: str) -> tcc_pb2.TccContext:
    return tcc_pb2.TccContext(gid=gid, branch_id="orders-01")


async def get(stub, order: OP.Order) -> OP.Order:  # type: ignore[no-untyped-def]
    return (await stub.GetOrder(pb.GetOrderRequest(name=order.name))).order


async def test_freeze_then_confirm_records_the_refund_once(orders_stub, paid_order) -> None:  # type: ignore[no-untyped-def]
    order = await paid_order("F1")
    total = order.total.minor_units
    left = await orders_stub.TryFreezeRefund(freeze(order, "r1", 100))
    assert left.remaining_refundable.minor_units == total - 100
    again = await orders_stub.TryFreezeRefund(freeze(order, "r1", 100))  # a repeat
    assert again.remaining_refundable.minor_units == total - 100
    frozen = await get(orders_stub, order)
    assert frozen.refund_frozen.minor_units == 100 and not frozen.HasField("refunded")
    for _ in range(2):  # the second Confirm is a repeat
        await orders_stub.ConfirmFreezeRefund(pb.ConfirmFreezeRefundRequest(tcc=branch("r1")))
    done = await get(orders_stub, order)
    assert done.refunded.minor_units == 100
    assert not done.HasField("refund_frozen")
    assert done.refundable.minor_units == total - 100


async def test_cancel_releases_the_freeze_and_a_confirm_after_it_is_refused(
    orders_stub, paid_order, reason_of
) -> None:  # type: ignore[no-untyped-def]
    order = await paid_order("F2")
    await orders_stub.TryFreezeRefund(freeze(order, "r2", 300))
    await orders_stub.CancelFreezeRefund(pb.CancelFreezeRefundRequest(tcc=branch("r2")))
    await orders_stub.CancelFreezeRefund(pb.CancelFreezeRefundRequest(tcc=branch("r2")))
    released = await get(orders_stub, order)
    assert released.refundable.minor_units == order.total.minor_units
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await orders_stub.ConfirmFreezeRefund(pb.ConfirmFreezeRefundRequest(tcc=branch("r2")))
    assert reason_of(refused.value) == "REFUND_FREEZE_NOT_FOUND"


async def test_a_cancel_before_its_try_is_empty_and_the_late_try_is_refused(
    orders_stub, paid_order, reason_of
) -> None:  # type: ignore[no-untyped-def]
    order = await paid_order("F3")
    await orders_stub.CancelFreezeRefund(pb.CancelFreezeRefundRequest(tcc=branch("r3")))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await orders_stub.TryFreezeRefund(freeze(order, "r3", 100))
    assert reason_of(refused.value) == "REFUND_FREEZE_CANCELLED"
    assert (await get(orders_stub, order)).refundable.minor_units == order.total.minor_units


async def test_a_refund_above_the_refundable_amount_is_refused_with_the_amount(
    orders_stub, paid_order, sync, make_snapshot, reason_of
) -> None:  # type: ignore[no-untyped-def]
    order = await paid_order("F4")
    total = order.total.minor_units
    await orders_stub.TryFreezeRefund(freeze(order, "r4", total - 10))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await orders_stub.TryFreezeRefund(freeze(order, "r5", 11))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(refused.value) == "REFUND_EXCEEDS_REFUNDABLE"
    metadata = dict(refused.value.trailing_metadata() or ())
    assert "10" in refused.value.details()
    assert metadata  # ErrorInfo carries the refundable amount
    unpaid = (await sync(make_snapshot("F5", [("TEE", 1)]))).order
    with pytest.raises(grpc.aio.AioRpcError) as not_paid:
        await orders_stub.TryFreezeRefund(freeze(unpaid, "r6", 1))
    assert reason_of(not_paid.value) == "ORDER_NOT_PAID"


async def test_fifty_simultaneous_full_refunds_freeze_exactly_once(
    orders_stub, paid_order, reason_of
) -> None:  # type: ignore[no-untyped-def]
    order = await paid_order("F6")
    total = order.total.minor_units

    async def one(i: int) -> str:
        try:
            await orders_stub.TryFreezeRefund(freeze(order, f"full-{i}", total))
        except grpc.aio.AioRpcError as err:
            return reason_of(err)
        return "FROZEN"

    answers = await asyncio.gather(*(one(i) for i in range(50)))
    assert answers.count("FROZEN") == 1
    assert answers.count("REFUND_EXCEEDS_REFUNDABLE") == 49
    got = await get(orders_stub, order)
    assert got.refund_frozen.minor_units == total
    assert got.refundable.minor_units == 0
