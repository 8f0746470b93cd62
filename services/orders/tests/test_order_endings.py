"""Every way an order ends settles its stock, through the running services.

Unpaid and cancelled, rejected or expired: the reservation is released and the
transaction cancelled. Paid and cancelled or rejected before shipment: the units
go back on hand and the payment is owed back. Shipped: cancellation is refused.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest
from oms.orders.v1 import order_pb2 as OP
from oms.orders.v1 import orders_service_pb2 as pb
from oms.tcc.v1 import tcc_pb2
from oms.type.v1 import address_pb2
from omslib.testing.polling import eventually

FULL_ADDRESS = address_pb2.Address(
    province="Zhejiang", city="Hangzhou", line1="1 Lake Rd", recipient_name="Li", phone="138"
)


@pytest.fixture
def place(sync, make_snapshot, put_stock):  # type: ignore[no-untyped-def]
    """``await place(order_id, quantity, review=False)``: a reserved order of TEE."""

    async def make(order_id: str, quantity: int = 2, review: bool = False) -> OP.Order:
        snap = make_snapshot(order_id, [("TEE", quantity)])
        if not review:
            snap.shipping_address.CopyFrom(FULL_ADDRESS)
        return (await sync(snap)).order

    return make


async def tx_state(stub, gid: str) -> int:  # type: ignore[no-untyped-def]
    """The transaction's state once its round has finished."""

    async def finished() -> tuple[int] | None:  # a tuple: truthy whatever the state's number
        tx = (await stub.GetTransaction(pb.GetTransactionRequest(gid=gid))).transaction
        busy = (tcc_pb2.TRANSACTION_STATE_CONFIRMING, tcc_pb2.TRANSACTION_STATE_CANCELLING)
        return None if tx.state in busy else (tx.state,)

    (state,) = await eventually(finished, what=f"{gid}'s round to finish")
    return state


async def test_rejecting_an_unpaid_order_releases_its_reservation(
    orders_stub, place, put_stock, available
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    order = await place("U1")
    assert (await available("TEE")).reserved == 2
    rejected = (
        await orders_stub.RejectOrder(
            pb.RejectOrderRequest(name=order.name, reason="fraud", operator="ann")
        )
    ).order
    assert rejected.state == OP.ORDER_STATE_REJECTED
    a = await available("TEE")
    assert (a.on_hand, a.reserved, a.available) == (5, 0, 5)
    assert await tx_state(orders_stub, order.gid) == tcc_pb2.TRANSACTION_STATE_CANCELLED


async def test_rejecting_a_paid_order_in_review_restocks_it_and_owes_the_payment(
    orders_stub, place, put_stock, available, pay_request
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    order = await place("R1", review=True)
    paid = (await orders_stub.RecordPayment(pay_request(order))).order
    assert paid.state == OP.ORDER_STATE_IN_REVIEW
    assert (await available("TEE")).on_hand == 3
    rejected = (
        await orders_stub.RejectOrder(
            pb.RejectOrderRequest(name=order.name, reason="fraud", operator="ann")
        )
    ).order
    assert rejected.state == OP.ORDER_STATE_REJECTED
    assert rejected.refund_owed == order.total
    a = await available("TEE")
    assert (a.on_hand, a.reserved, a.available) == (5, 0, 5)  # the goods never left


async def test_cancelling_a_paid_allocated_order_puts_its_units_back_once(
    orders_stub, place, put_stock, available, pay_request
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    order = await place("C1")
    assert (await orders_stub.RecordPayment(pay_request(order))).order.state == (
        OP.ORDER_STATE_ALLOCATED
    )
    assert (await available("TEE")).on_hand == 3
    request = pb.CancelOrderRequest(name=order.name, reason="buyer", request_id="cancel-C1")
    cancelled = (await orders_stub.CancelOrder(request)).order
    assert cancelled.state == OP.ORDER_STATE_CANCELLED
    assert cancelled.refund_owed == order.total
    again = (await orders_stub.CancelOrder(request)).order  # a repeat changes nothing
    assert again.state == OP.ORDER_STATE_CANCELLED
    a = await available("TEE")
    assert (a.on_hand, a.reserved, a.available) == (5, 0, 5)
    restocks = await orders_stub.ListTransactions(
        pb.ListTransactionsRequest(states=[tcc_pb2.TRANSACTION_STATE_CONFIRMED])
    )
    kinds = sorted(t.kind for t in restocks.transactions)
    assert kinds == ["order.place", "order.restock"]


async def test_a_shipped_order_cannot_be_cancelled_and_keeps_its_deduction(
    orders_stub, place, put_stock, available, pay_request, ship_request, reason_of
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    order = await place("S1")
    await orders_stub.RecordPayment(pay_request(order))
    await orders_stub.RecordShipment(ship_request(order))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await orders_stub.CancelOrder(pb.CancelOrderRequest(name=order.name, reason="buyer"))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(refused.value) == "ORDER_ALREADY_SHIPPED"
    assert (await available("TEE")).on_hand == 3


async def test_a_second_payment_with_another_reference_is_a_conflict(
    orders_stub, place, put_stock, available, pay_request, reason_of
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    order = await place("P1")
    await orders_stub.RecordPayment(pay_request(order, "PAY-A"))
    same = (await orders_stub.RecordPayment(pay_request(order, "PAY-A"))).order
    assert same.payment.reference == "PAY-A"
    with pytest.raises(grpc.aio.AioRpcError) as conflict:
        await orders_stub.RecordPayment(pay_request(order, "PAY-B"))
    assert conflict.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(conflict.value) == "PAYMENT_CONFLICT"
    assert (await available("TEE")).on_hand == 3  # deducted once


async def test_a_payment_of_the_wrong_amount_is_refused_with_both_amounts(
    orders_stub, place, put_stock, available, reason_of
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    order = await place("M1")
    short = OP.Order()
    short.total.CopyFrom(order.total)
    short.total.minor_units -= 1
    for amount in (short.total, None):
        request = pb.RecordPaymentRequest(name=order.name, payment_reference="PAY-1")
        if amount is not None:
            request.amount.CopyFrom(amount)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await orders_stub.RecordPayment(request)
        if amount is None:
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        else:
            assert reason_of(refused.value) == "PAYMENT_AMOUNT_MISMATCH"
            assert str(order.total.minor_units) in refused.value.details()
    got = (await orders_stub.GetOrder(pb.GetOrderRequest(name=order.name))).order
    assert got.state == OP.ORDER_STATE_PENDING_PAYMENT
    a = await available("TEE")
    assert (a.on_hand, a.reserved) == (5, 2)


async def test_a_request_id_reused_for_another_request_is_refused(
    orders_stub, place, put_stock, pay_request, reason_of
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    one, two = await place("Q1"), await place("Q2")
    await orders_stub.CancelOrder(
        pb.CancelOrderRequest(name=one.name, reason="buyer", request_id="req-1")
    )
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await orders_stub.RecordPayment(pay_request(two, request_id="req-1"))
    assert reused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(reused.value) == "REQUEST_ID_REUSED"
    got = (await orders_stub.GetOrder(pb.GetOrderRequest(name=two.name))).order
    assert got.state == OP.ORDER_STATE_PENDING_PAYMENT


async def test_retrying_a_parked_transaction_records_the_operator(
    clocked_orders, inventory, make_snapshot, put_stock
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from omslib.ids import new_id

    stub, coordinator = clocked_orders.stub, clocked_orders.running.orders.coordinator
    await put_stock("TEE", 3)
    snap = make_snapshot("T1", [("TEE", 1)])
    order = (
        await stub.SyncPlatformOrder(
            pb.SyncPlatformOrderRequest(request_id=new_id(), snapshot=snap)
        )
    ).order
    await inventory.stop()
    await stub.CancelOrder(pb.CancelOrderRequest(name=order.name, reason="buyer"))
    for _ in range(10):
        tx = (await stub.GetTransaction(pb.GetTransactionRequest(gid=order.gid))).transaction
        if tx.state == tcc_pb2.TRANSACTION_STATE_PARKED:
            break
        clocked_orders.clock.advance(timedelta(hours=1))
        await coordinator.recover_once()
    await inventory.start()
    for _ in range(100):
        try:
            retried = (
                await stub.RetryTransaction(
                    pb.RetryTransactionRequest(gid=order.gid, operator="ann")
                )
            ).transaction
            break
        except grpc.aio.AioRpcError:
            await asyncio.sleep(0.1)
    assert "retried by ann" in retried.reason


async def test_a_platform_payment_of_a_rejected_order_is_recorded_as_owed_back(
    sync, make_snapshot, put_stock, available, caplog
) -> None:  # type: ignore[no-untyped-def]
    import logging

    await put_stock("TEE", 1)
    rejected = (await sync(make_snapshot("L1", [("TEE", 5)]))).order  # not enough stock
    assert rejected.state == OP.ORDER_STATE_REJECTED
    paid_snapshot = make_snapshot(
        "L1", [("TEE", 5)], status=OP.PLATFORM_ORDER_STATUS_PAID, version=1
    )
    with caplog.at_level(logging.ERROR):
        answered = (await sync(paid_snapshot)).order  # accepted: a payment is never dropped
    assert answered.state == OP.ORDER_STATE_REJECTED
    assert answered.refund_owed == rejected.total
    assert "PAYMENT_AFTER_CANCELLATION" in answered.reason_codes
    assert any("ORDER_PAYMENT_EXCEPTION" in r.getMessage() for r in caplog.records)
    again = (await sync(paid_snapshot)).order
    assert again.refund_owed == rejected.total
    a = await available("TEE")
    assert (a.on_hand, a.reserved) == (1, 0)


async def test_a_refused_request_replayed_later_is_refused_again(
    orders_stub, place, put_stock, pay_request, reason_of
) -> None:  # type: ignore[no-untyped-def]
    """The first answer is the answer: a shipment refused while the order was unpaid
    stays refused when the same request arrives again after payment (a late retry), and
    the shipment is recorded by a new request."""
    await put_stock("TEE", 5)
    order = await place("Q3")
    ship = pb.RecordShipmentRequest(
        name=order.name,
        shipment=OP.Shipment(carrier="SF", tracking_number="SF-Q3"),
        request_id="ship-q3",
    )
    with pytest.raises(grpc.aio.AioRpcError) as first:
        await orders_stub.RecordShipment(ship)
    assert first.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await orders_stub.RecordPayment(pay_request(order))
    with pytest.raises(grpc.aio.AioRpcError) as replayed:
        await orders_stub.RecordShipment(ship)
    assert replayed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(replayed.value) == reason_of(first.value)
    assert replayed.value.details() == first.value.details()
    got = (await orders_stub.GetOrder(pb.GetOrderRequest(name=order.name))).order
    assert got.state != OP.ORDER_STATE_SHIPPED and not got.HasField("shipment")
    ship.request_id = "ship-q3-again"
    shipped = (await orders_stub.RecordShipment(ship)).order
    assert shipped.state == OP.ORDER_STATE_SHIPPED
