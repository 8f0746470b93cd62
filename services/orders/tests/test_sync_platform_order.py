"""SyncPlatformOrder against the real inventory service: create, duplicate, stale,
refusals, invalid snapshots and an unreachable inventory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from typing import Any

import grpc
import grpc.aio
import pytest
from oms.orders.v1 import order_pb2
from oms.orders.v1 import orders_service_pb2 as pb
from oms.orders.v1 import orders_service_pb2_grpc as pb_grpc
from oms.tcc.v1 import tcc_pb2

Stub = pb_grpc.OrdersServiceStub
Outcome = pb.SyncPlatformOrderOutcome
Fn = Any  # the async helper fixtures from conftest


async def all_orders(stub: Stub) -> list[order_pb2.Order]:
    return list((await stub.ListOrders(pb.ListOrdersRequest(page_size=500))).orders)


async def test_a_new_order_reserves_its_stock(
    orders_stub: Stub, sync: Fn, make_snapshot: Fn, put_stock: Fn, available: Fn
) -> None:
    await put_stock("TEE", 10)
    await put_stock("MUG", 5)

    reply = await sync(make_snapshot("A1", [("TEE", 2), ("MUG", 1)]))

    order = reply.order
    assert reply.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_CREATED
    assert order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert order.name == f"orders/{order.order_id}"
    assert sorted((a.sku, a.warehouse_code, a.quantity) for a in order.allocations) == [
        ("MUG", "HZ1", 1),
        ("TEE", "HZ1", 2),
    ]
    deadline = order.platform_create_time.ToDatetime() + timedelta(minutes=30)
    assert order.payment_deadline.ToDatetime() == deadline
    assert [(h.from_state, h.to_state) for h in order.history] == [
        (order_pb2.ORDER_STATE_UNSPECIFIED, order_pb2.ORDER_STATE_PENDING_PAYMENT)
    ]
    tee = await available("TEE")
    assert (tee.reserved, tee.available) == (2, 8)
    assert (await available("MUG")).reserved == 1

    tx = (await orders_stub.GetTransaction(pb.GetTransactionRequest(gid=order.gid))).transaction
    assert tx.state == tcc_pb2.TRANSACTION_STATE_TRIED
    assert tx.subject == order.name
    assert [(b.branch_id, b.state) for b in tx.branches] == [
        ("inventory-01", tcc_pb2.BRANCH_STATE_TRIED)
    ]


async def test_a_repeated_request_id_is_a_duplicate_and_reserves_nothing_more(
    orders_stub: Stub, sync: Fn, make_snapshot: Fn, put_stock: Fn, available: Fn
) -> None:
    await put_stock("TEE", 10)
    snap = make_snapshot("A2", [("TEE", 3)])
    first = await sync(snap, "shop:evt-1")

    again = await sync(snap, "shop:evt-1")

    assert again.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_DUPLICATE
    assert again.order.order_id == first.order.order_id
    assert (await available("TEE")).reserved == 3
    assert len(await all_orders(orders_stub)) == 1


async def test_the_same_platform_order_with_the_same_update_time_is_stale(
    sync: Fn, make_snapshot: Fn, put_stock: Fn, available: Fn
) -> None:
    await put_stock("TEE", 10)
    snap = make_snapshot("A3", [("TEE", 1)])
    first = await sync(snap)

    stale = await sync(snap)

    assert stale.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_STALE
    assert stale.order.order_id == first.order.order_id
    assert stale.order.platform_update_time == first.order.platform_update_time
    assert (await available("TEE")).reserved == 1


async def test_a_newer_created_snapshot_advances_the_platform_time_only(
    sync: Fn, make_snapshot: Fn, put_stock: Fn, available: Fn
) -> None:
    await put_stock("TEE", 10)
    first = await sync(make_snapshot("A4", [("TEE", 1)]))
    later = first.order.platform_update_time.ToDatetime(tzinfo=UTC) + timedelta(seconds=30)

    newer = await sync(make_snapshot("A4", [("TEE", 1)], update_time=later))

    assert newer.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_ADVANCED
    assert newer.order.platform_update_time.ToDatetime(tzinfo=UTC) == later
    assert newer.order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert (await available("TEE")).reserved == 1


async def test_not_enough_stock_rejects_the_order_and_reserves_nothing(
    orders_stub: Stub, sync: Fn, make_snapshot: Fn, put_stock: Fn, available: Fn
) -> None:
    await put_stock("LAMP", 1)
    await put_stock("TEE", 10)

    reply = await sync(make_snapshot("B1", [("TEE", 1), ("LAMP", 2)]))

    order = reply.order
    assert reply.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_REJECTED
    assert order.state == order_pb2.ORDER_STATE_REJECTED
    assert list(order.reason_codes) == ["INSUFFICIENT_STOCK"]
    assert "LAMP" in order.state_reason
    assert list(order.allocations) == []
    assert (await available("LAMP")).reserved == 0
    assert (await available("TEE")).reserved == 0
    stored = await orders_stub.GetOrder(pb.GetOrderRequest(name=order.name))
    assert stored.order.state == order_pb2.ORDER_STATE_REJECTED
    assert [h.to_state for h in stored.order.history] == [
        order_pb2.ORDER_STATE_PENDING_PAYMENT,
        order_pb2.ORDER_STATE_REJECTED,
    ]
    tx = (await orders_stub.GetTransaction(pb.GetTransactionRequest(gid=order.gid))).transaction
    assert tx.state == tcc_pb2.TRANSACTION_STATE_CANCELLED
    assert tx.branches[0].state == tcc_pb2.BRANCH_STATE_CANCELLED


async def test_an_unknown_sku_rejects_the_order(sync: Fn, make_snapshot: Fn, put_stock: Fn) -> None:
    await put_stock("TEE", 10)

    reply = await sync(make_snapshot("B2", [("NO-SUCH-SKU", 1)]))

    assert reply.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_REJECTED
    assert list(reply.order.reason_codes) == ["UNKNOWN_SKU"]
    assert "NO-SUCH-SKU" in reply.order.state_reason


def _negative_quantity(snap: order_pb2.PlatformOrderSnapshot) -> None:
    snap.lines[0].quantity = -1


def _no_lines(snap: order_pb2.PlatformOrderSnapshot) -> None:
    del snap.lines[:]


def _no_order_id(snap: order_pb2.PlatformOrderSnapshot) -> None:
    snap.platform_order_id = ""


def _no_update_time(snap: order_pb2.PlatformOrderSnapshot) -> None:
    snap.ClearField("update_time")


@pytest.mark.parametrize(
    ("breakage", "field"),
    [
        (_negative_quantity, "lines[0].quantity"),
        (_no_lines, "lines"),
        (_no_order_id, "platform_order_id"),
        (_no_update_time, "update_time"),
    ],
)
async def test_an_invalid_snapshot_is_refused_and_stores_nothing(
    orders_stub: Stub,
    sync: Fn,
    make_snapshot: Fn,
    reason_of: Fn,
    put_stock: Fn,
    available: Fn,
    breakage: Callable[[order_pb2.PlatformOrderSnapshot], None],
    field: str,
) -> None:
    await put_stock("TEE", 10)
    snap = make_snapshot("C1", [("TEE", 1)])
    breakage(snap)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await sync(snap)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # The request rules in the proto refuse it before the domain sees it.
    assert reason_of(raised.value) == "INVALID_ARGUMENT"
    assert f"snapshot.{field}" in (raised.value.details() or "")
    assert await all_orders(orders_stub) == []
    listed = await orders_stub.ListTransactions(pb.ListTransactionsRequest())
    assert list(listed.transactions) == []
    assert (await available("TEE")).reserved == 0


async def test_inventory_down_answers_unavailable_and_the_retry_finishes_the_same_try(
    orders_stub: Stub,
    sync: Fn,
    make_snapshot: Fn,
    reason_of: Fn,
    inventory: Fn,
    put_stock: Fn,
    available: Fn,
) -> None:
    await put_stock("TEE", 10)
    await inventory.stop()
    snap = make_snapshot("D1", [("TEE", 2)])

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await sync(snap, "shop:evt-down")

    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason_of(raised.value) == "INVENTORY_UNAVAILABLE"
    # The order and its transaction are kept, waiting for the Try to answer: no churn.
    (kept,) = await all_orders(orders_stub)
    assert kept.state == order_pb2.ORDER_STATE_PENDING_PAYMENT and not kept.allocations
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await sync(snap, "shop:evt-down")  # a retry while still down changes nothing
    assert again.value.code() == grpc.StatusCode.UNAVAILABLE
    trying = await orders_stub.ListTransactions(pb.ListTransactionsRequest())
    assert [(t.gid, t.state) for t in trying.transactions] == [
        (kept.gid, tcc_pb2.TRANSACTION_STATE_TRYING)
    ]

    await inventory.start()
    reply = await _until_available(lambda: sync(snap, "shop:evt-down"))

    assert reply.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_CREATED
    assert reply.order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert reply.order.order_id == kept.order_id and reply.order.gid == kept.gid
    assert (await available("TEE")).reserved == 2
    assert [o.order_id for o in await all_orders(orders_stub)] == [reply.order.order_id]
    tried = await orders_stub.ListTransactions(pb.ListTransactionsRequest())
    assert [t.state for t in tried.transactions] == [tcc_pb2.TRANSACTION_STATE_TRIED]


async def _until_available(
    call: Callable[[], Awaitable[pb.SyncPlatformOrderResponse]],
) -> pb.SyncPlatformOrderResponse:
    """Retry like the gateway does while the client channel reconnects."""
    for _ in range(100):
        try:
            return await call()
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("inventory never came back")


async def test_a_push_id_reused_for_another_order_is_refused_but_a_replay_is_a_duplicate(
    sync: Fn, make_snapshot: Fn, put_stock: Fn, reason_of: Fn
) -> None:
    await put_stock("TEE", 10)
    await sync(make_snapshot("R1", [("TEE", 1)]), "shop:evt-1")
    replay = make_snapshot("R1", [("TEE", 1)])
    replay.update_time.seconds += 60  # a replay read again later: times may differ
    again = await sync(replay, "shop:evt-1")
    assert again.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_DUPLICATE
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await sync(make_snapshot("R2", [("TEE", 1)]), "shop:evt-1")
    assert reused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(reused.value) == "REQUEST_ID_REUSED"
