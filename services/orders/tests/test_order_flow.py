"""After the Try: payment (Confirm), cancellation (Cancel), review, deadline, exceptions."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from oms.orders.v1 import order_pb2, orders_service_pb2_grpc
from oms.orders.v1 import orders_service_pb2 as pb
from oms.tcc.v1 import tcc_pb2
from oms.type.v1 import address_pb2, platform_pb2
from omslib.ids import new_id

OP = order_pb2
PAID, CANCELLED, CREATED = (
    OP.PLATFORM_ORDER_STATUS_PAID,
    OP.PLATFORM_ORDER_STATUS_CANCELLED,
    OP.PLATFORM_ORDER_STATUS_CREATED,
)
# Platform modification times: the paid/cancelled snapshot is newer than the created one.
EARLIER = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
LATER = EARLIER + timedelta(minutes=2)
FULL_ADDRESS = address_pb2.Address(
    province="Zhejiang",
    city="Hangzhou",
    line1="1 West Lake Rd",
    recipient_name="Li Lei",
    phone="13800000000",
)


@pytest.fixture
def full(make_snapshot):  # type: ignore[no-untyped-def]
    """Snapshots with a complete address (so the rules can approve them)."""

    def make(order_id: str, lines, **kw):  # type: ignore[no-untyped-def]
        snap = make_snapshot(order_id, lines, **kw)
        snap.shipping_address.CopyFrom(FULL_ADDRESS)
        return snap

    return make


def states(order: OP.Order) -> list[str]:
    return [OP.OrderState.Name(t.to_state).removeprefix("ORDER_STATE_") for t in order.history]


async def test_created_then_paid_confirms_and_the_rules_approve(
    sync, full, put_stock, available
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    await sync(full("F1", [("TEE", 2)]))
    later = full("F1", [("TEE", 2)], status=PAID, version=1)
    paid = await sync(later)
    assert paid.order.state == OP.ORDER_STATE_ALLOCATED
    assert states(paid.order) == ["PENDING_PAYMENT", "PAID", "ALLOCATED"]
    a = await available("TEE")
    assert (a.on_hand, a.reserved, a.available) == (3, 0, 3)
    again = await sync(later)  # a duplicate changes nothing
    assert again.order.state == OP.ORDER_STATE_ALLOCATED
    assert (await available("TEE")).on_hand == 3


async def test_paid_before_created_ends_like_in_order(sync, full, put_stock, available) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    paid = await sync(full("F2", [("TEE", 1)], status=PAID, version=2, update_time=LATER))
    assert paid.order.state == OP.ORDER_STATE_ALLOCATED
    created = await sync(full("F2", [("TEE", 1)], status=CREATED, version=1, update_time=EARLIER))
    assert created.order.state == OP.ORDER_STATE_ALLOCATED
    assert created.outcome == pb.SYNC_PLATFORM_ORDER_OUTCOME_STALE
    a = await available("TEE")
    assert (a.on_hand, a.reserved) == (4, 0)


async def test_cancelled_snapshot_releases_the_stock(sync, full, put_stock, available) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    await sync(full("F3", [("TEE", 2)]))
    assert (await available("TEE")).reserved == 2
    cancelled = await sync(full("F3", [("TEE", 2)], status=CANCELLED, version=1))
    assert cancelled.order.state == OP.ORDER_STATE_CANCELLED
    assert list(cancelled.order.reason_codes) == ["PLATFORM_CANCELLED"]
    a = await available("TEE")
    assert (a.on_hand, a.reserved, a.available) == (5, 0, 5)


async def test_cancelled_before_created_reserves_nothing(sync, full, put_stock, available) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    first = await sync(full("F4", [("TEE", 2)], status=CANCELLED, version=2, update_time=LATER))
    assert first.order.state == OP.ORDER_STATE_CANCELLED
    late = await sync(full("F4", [("TEE", 2)], status=CREATED, version=1, update_time=EARLIER))
    assert late.order.state == OP.ORDER_STATE_CANCELLED
    a = await available("TEE")
    assert (a.on_hand, a.reserved) == (5, 0)


async def test_rules_send_orders_to_review_then_approve_or_reject(
    orders_stub, sync, make_snapshot, full, put_stock
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    partial = await sync(make_snapshot("R1", [("TEE", 1)], status=PAID))
    assert partial.order.state == OP.ORDER_STATE_IN_REVIEW
    assert "INCOMPLETE_ADDRESS" in partial.order.reason_codes
    approved = await orders_stub.ApproveOrder(
        pb.ApproveOrderRequest(name=partial.order.name, note="checked", operator="ann")
    )
    assert approved.order.state == OP.ORDER_STATE_ALLOCATED
    assert approved.order.state_reason == "approved in review by ann: checked"
    assert "INCOMPLETE_ADDRESS" in approved.order.reason_codes  # why it was reviewed
    big = full("R2", [("TEE", 1)], status=PAID)
    big.total.minor_units = 10_000_000
    review = await sync(big)
    assert list(review.order.reason_codes) == ["AMOUNT_OVER_THRESHOLD"]
    rejected = await orders_stub.RejectOrder(
        pb.RejectOrderRequest(name=review.order.name, reason="fraud check", operator="ann")
    )
    assert rejected.order.state == OP.ORDER_STATE_REJECTED
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await orders_stub.ApproveOrder(
            pb.ApproveOrderRequest(name=review.order.name, operator="amy")
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_record_payment_cancel_and_shipment_rpcs(
    orders_stub, sync, full, put_stock, available, pay_request, ship_request
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    one = (await sync(full("P1", [("TEE", 1)]))).order
    two = (await sync(full("P2", [("TEE", 1)]))).order
    paid = await orders_stub.RecordPayment(pay_request(one))
    assert paid.order.state == OP.ORDER_STATE_ALLOCATED
    assert paid.order.payment.reference == "PAY-1"
    assert paid.order.payment.amount == one.total
    assert paid.order.HasField("promised_ship_time")
    shipped = await orders_stub.RecordShipment(ship_request(one))
    assert shipped.order.state == OP.ORDER_STATE_SHIPPED
    assert (shipped.order.shipment.carrier, shipped.order.shipment.tracking_number) == (
        "SF",
        "SF100",
    )
    assert shipped.order.shipment.on_time is True
    cancelled = await orders_stub.CancelOrder(pb.CancelOrderRequest(name=two.name, reason="buyer"))
    assert cancelled.order.state == OP.ORDER_STATE_CANCELLED
    a = await available("TEE")
    assert (a.on_hand, a.reserved) == (4, 0)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await orders_stub.RecordPayment(pay_request(two))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    txs = await orders_stub.ListTransactions(
        pb.ListTransactionsRequest(states=[tcc_pb2.TRANSACTION_STATE_CONFIRMED])
    )
    assert [t.gid for t in txs.transactions] == [one.gid]
    metrics = await orders_stub.GetFlowMetrics(pb.GetFlowMetricsRequest())
    pairs = {(s.from_state, s.to_state): s.count for s in metrics.stages}
    assert pairs[(OP.ORDER_STATE_PENDING_PAYMENT, OP.ORDER_STATE_PAID)] == 1
    assert pairs[(OP.ORDER_STATE_ALLOCATED, OP.ORDER_STATE_SHIPPED)] == 1


async def test_unpaid_orders_are_cancelled_at_the_per_channel_deadline(
    clocked_orders, full, put_stock, available
) -> None:  # type: ignore[no-untyped-def]
    stub: orders_service_pb2_grpc.OrdersServiceStub = clocked_orders.stub
    handlers = clocked_orders.running.orders.handlers
    await put_stock("TEE", 5)

    async def place(oid: str, platform: int) -> OP.Order:
        snap = full(oid, [("TEE", 1)], platform=platform)
        reply = await stub.SyncPlatformOrder(
            pb.SyncPlatformOrderRequest(request_id=new_id(), snapshot=snap)
        )
        return reply.order

    taobao = await place("D1", platform_pb2.PLATFORM_TAOBAO)  # 15 minutes
    shop = await place("D2", platform_pb2.PLATFORM_SHOP)  # default 30
    assert (await available("TEE")).reserved == 2
    clocked_orders.clock.advance(timedelta(minutes=16))
    assert await handlers.expire_unpaid() == 1
    got = (await stub.GetOrder(pb.GetOrderRequest(name=taobao.name))).order
    assert got.state == OP.ORDER_STATE_CANCELLED
    assert list(got.reason_codes) == ["PAYMENT_TIMEOUT"]
    assert (await available("TEE")).reserved == 1
    clocked_orders.clock.advance(timedelta(minutes=15))
    assert await handlers.expire_unpaid() == 1
    assert (await stub.GetOrder(pb.GetOrderRequest(name=shop.name))).order.state == (
        OP.ORDER_STATE_CANCELLED
    )
    a = await available("TEE")
    assert (a.on_hand, a.reserved, a.available) == (5, 0, 5)


async def test_payment_after_the_backstop_released_the_stock_is_a_visible_exception(
    clocked_orders, inventory, full, put_stock, available, caplog, pay_request
) -> None:  # type: ignore[no-untyped-def]
    from oms_inventory.domain.reservation import BranchKey

    stub = clocked_orders.stub
    await put_stock("TEE", 1)
    order = (
        await stub.SyncPlatformOrder(
            pb.SyncPlatformOrderRequest(request_id=new_id(), snapshot=full("X1", [("TEE", 1)]))
        )
    ).order
    # inventory's backstop expires the reservation (deadline + grace passed there)
    await inventory.running.inventory.reservations.release(
        BranchKey(order.gid, "inventory-01"), expired=True
    )
    with caplog.at_level(logging.ERROR):
        paid = (await stub.RecordPayment(pay_request(order))).order
    assert paid.state == OP.ORDER_STATE_PAID
    assert "PAYMENT_AFTER_STOCK_RELEASE" in paid.reason_codes
    tx = (await stub.GetTransaction(pb.GetTransactionRequest(gid=order.gid))).transaction
    assert tx.state == tcc_pb2.TRANSACTION_STATE_PARKED
    assert "RESERVATION_RELEASED" in tx.reason
    assert any("TCC_TRANSACTION_PARKED" in r.getMessage() for r in caplog.records)
    assert any("ORDER_PAYMENT_EXCEPTION" in r.getMessage() for r in caplog.records)
    a = await available("TEE")
    assert (a.on_hand, a.reserved, a.available) == (1, 0, 1)  # never a silent oversell
    parked = await stub.ListTransactions(
        pb.ListTransactionsRequest(states=[tcc_pb2.TRANSACTION_STATE_PARKED])
    )
    assert [t.gid for t in parked.transactions] == [order.gid]
