"""Orders' events reach Redis Streams through the outbox: oms.orders and oms.alerts.

Real orders and inventory services, a real Redis (embedded, or OMS_TEST_REDIS_URL);
the stream is read with XRANGE, polling with a generous timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
import pytest
import redis.asyncio
import sqlalchemy as sa
from google.protobuf.message import Message
from oms.events.v1.alert_events_pb2 import ALERT_SEVERITY_CRITICAL, Alert
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.order_events_pb2 import OrderCreated, OrderStateChanged
from oms.orders.v1 import order_pb2 as OP
from oms.orders.v1 import orders_service_pb2 as pb
from oms.tcc.v1 import tcc_pb2
from oms.type.v1 import address_pb2
from oms_orders.adapters import orm
from omslib.ids import new_id
from omslib.outbox import STREAM_ALERTS, STREAM_ORDERS
from omslib.redis_conn import connect
from omslib.testing.polling import eventually

PAID = OP.PLATFORM_ORDER_STATUS_PAID
outbox = orm.outbox.outbox
TIMEOUT = 30.0
FULL_ADDRESS = address_pb2.Address(
    province="Zhejiang",
    city="Hangzhou",
    line1="1 West Lake Rd",
    recipient_name="Li Lei",
    phone="13800000000",
)


@dataclass(frozen=True)
class Entry:
    """One stream entry: the fields for humans plus the decoded envelope."""

    type: str
    aggregate: str
    sequence: int
    envelope: EventEnvelope

    def unpack(self, message_type: type[Message]) -> Any:
        payload = message_type()
        assert self.envelope.payload.Unpack(payload), self.envelope.payload.type_url
        return payload


@pytest.fixture
async def streams(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = connect(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def read(client: redis.asyncio.Redis, stream: str) -> list[Entry]:
    """The stream's entries written by orders (other services may share the stream)."""
    entries = []
    for _, fields in await client.xrange(stream):
        entries.append(
            Entry(
                type=fields[b"type"].decode(),
                aggregate=fields[b"aggregate"].decode(),
                sequence=int(fields[b"sequence"]),
                envelope=EventEnvelope.FromString(fields[b"envelope"]),
            )
        )
    return [e for e in entries if e.envelope.source == "orders"]


async def wait_for(
    client: redis.asyncio.Redis, stream: str, done: Callable[[list[Entry]], bool]
) -> list[Entry]:
    """The stream's entries once ``done(entries)``; fails after TIMEOUT seconds."""
    seen: list[Entry] = []

    async def finished() -> tuple[list[Entry]] | None:
        seen[:] = await read(client, stream)
        return (list(seen),) if done(seen) else None  # a tuple: truthy even when empty

    try:
        (entries,) = await eventually(finished, within=TIMEOUT, what=f"{stream} to get there")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it holds {seen}") from None
    return entries


def of(entries: list[Entry], order_id: str) -> list[Entry]:
    return [e for e in entries if e.aggregate == f"order/{order_id}"]


def moves(entries: list[Entry]) -> list[tuple[str, str]]:
    """(from, to) of each OrderStateChanged, state names without the prefix."""
    name = OP.OrderState.Name
    return [
        (
            name(c.transition.from_state).removeprefix("ORDER_STATE_"),
            name(c.transition.to_state).removeprefix("ORDER_STATE_"),
        )
        for c in (e.unpack(OrderStateChanged) for e in entries if e.type == "OrderStateChanged")
    ]


async def outbox_rows(running: Any, order_id: str) -> int:
    async with running.orders.engine.connect() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(outbox)
            .where(outbox.c.aggregate_type == "order", outbox.c.aggregate_id == order_id)
        )
    return int(count or 0)


def full(make_snapshot: Callable[..., OP.PlatformOrderSnapshot], oid: str, lines, **kw):  # type: ignore[no-untyped-def]
    snap = make_snapshot(oid, lines, **kw)
    snap.shipping_address.CopyFrom(FULL_ADDRESS)
    return snap


async def test_placed_paid_rejected_and_cancelled_orders_are_on_oms_orders_in_order(
    orders, orders_stub, sync, make_snapshot, put_stock, streams
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    created = await sync(full(make_snapshot, "E1", [("TEE", 2)]), "shop:e1-created")
    # Paid, then approved by the rules once inventory confirmed (maybe on a recovery round).
    await sync(full(make_snapshot, "E1", [("TEE", 2)], status=PAID, version=1))
    other = (await sync(full(make_snapshot, "E2", [("TEE", 1)]))).order
    await orders_stub.CancelOrder(pb.CancelOrderRequest(name=other.name, reason="buyer asked"))
    rejected = (await sync(full(make_snapshot, "E3", [("TEE", 99)]))).order
    assert rejected.state == OP.ORDER_STATE_REJECTED
    one, two, three = created.order.order_id, other.order_id, rejected.order_id

    entries = await wait_for(
        streams,
        STREAM_ORDERS,
        lambda es: (len(of(es, one)), len(of(es, two)), len(of(es, three))) == (3, 2, 2),
    )

    for order_id in (one, two, three):
        mine = of(entries, order_id)
        assert [e.sequence for e in mine] == list(range(1, len(mine) + 1))
        assert [e.envelope.sequence for e in mine] == [e.sequence for e in mine]
        assert mine[0].type == "OrderCreated"
        assert {e.type for e in mine[1:]} == {"OrderStateChanged"}
        for e in mine:
            env = e.envelope
            assert (env.source, env.aggregate_type, env.aggregate_id) == (
                "orders",
                "order",
                order_id,
            )
            assert env.type == e.type and len(env.event_id) == 26
        assert len({e.envelope.event_id for e in mine}) == len(mine)

    first = of(entries, one)
    placed = first[0].unpack(OrderCreated).order
    assert (placed.order_id, placed.platform_order_id) == (one, "E1")
    assert placed.state == OP.ORDER_STATE_PENDING_PAYMENT
    assert [(a.sku, a.quantity) for a in placed.allocations] == [("TEE", 2)]  # reserved
    assert placed.total.minor_units == 2 * 1999
    assert moves(first) == [("PENDING_PAYMENT", "PAID"), ("PAID", "ALLOCATED")]
    assert moves(of(entries, two)) == [("PENDING_PAYMENT", "CANCELLED")]
    cancel = of(entries, two)[1].unpack(OrderStateChanged)
    assert cancel.order_id == two and cancel.transition.reason == "buyer asked"
    # A refused Try: the order is announced with its outcome, then the move.
    refused = of(entries, three)
    assert refused[0].unpack(OrderCreated).order.state == OP.ORDER_STATE_REJECTED
    assert moves(refused) == [("PENDING_PAYMENT", "REJECTED")]
    assert list(refused[1].unpack(OrderStateChanged).reason_codes) == ["INSUFFICIENT_STOCK"]

    # The same push again (same request id), and the paid one again: nothing new.
    again = await sync(full(make_snapshot, "E1", [("TEE", 2)]), "shop:e1-created")
    assert again.outcome == pb.SYNC_PLATFORM_ORDER_OUTCOME_DUPLICATE
    await sync(full(make_snapshot, "E1", [("TEE", 2)], status=PAID, version=1))
    assert await outbox_rows(orders, one) == 3
    # A later change goes out after anything the replays could have written.
    four = (await sync(full(make_snapshot, "E4", [("TEE", 1)]))).order.order_id
    entries = await wait_for(streams, STREAM_ORDERS, lambda es: len(of(es, four)) == 1)
    assert of(entries, one) == first


async def test_an_order_whose_try_outcome_was_unknown_is_announced_once_it_is_known(
    orders, orders_stub, sync, make_snapshot, put_stock, inventory, streams
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 10)
    await inventory.stop()
    snap = make_snapshot("U1", [("TEE", 2)])
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await sync(snap, "shop:u1")
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    await inventory.start()
    reply = await _until_available(lambda: sync(snap, "shop:u1"))
    order_id = reply.order.order_id

    entries = await wait_for(streams, STREAM_ORDERS, lambda es: len(es) >= 1)
    # Nothing while the outcome was unknown, then the order once, with its reservation.
    assert [(e.aggregate, e.type, e.sequence) for e in entries] == [
        (f"order/{order_id}", "OrderCreated", 1)
    ]
    async with orders.orders.engine.connect() as conn:
        aggregates = (await conn.execute(sa.select(outbox.c.aggregate_id).distinct())).all()
    assert [a for (a,) in aggregates] == [order_id]


async def test_a_transaction_parked_after_its_last_cancel_attempt_raises_an_alert(
    clocked_orders, inventory, make_snapshot, put_stock, streams
) -> None:  # type: ignore[no-untyped-def]
    stub, coordinator = clocked_orders.stub, clocked_orders.running.orders.coordinator
    await put_stock("TEE", 3)
    order = (
        await stub.SyncPlatformOrder(
            pb.SyncPlatformOrderRequest(
                request_id=new_id(), snapshot=make_snapshot("P1", [("TEE", 1)])
            )
        )
    ).order
    await inventory.stop()
    await stub.CancelOrder(pb.CancelOrderRequest(name=order.name, reason="buyer asked"))
    for _ in range(10):  # max attempts is 3: the recovery loop's retries fail too
        tx = (await stub.GetTransaction(pb.GetTransactionRequest(gid=order.gid))).transaction
        if tx.state == tcc_pb2.TRANSACTION_STATE_PARKED:
            break
        clocked_orders.clock.advance(timedelta(hours=1))
        await coordinator.recover_once()
    assert tx.state == tcc_pb2.TRANSACTION_STATE_PARKED

    alerts = await wait_for(streams, STREAM_ALERTS, lambda es: len(es) >= 1)
    assert [(e.type, e.aggregate, e.sequence) for e in alerts] == [
        ("Alert", f"transaction/{order.gid}", 1)
    ]
    alert = alerts[0].unpack(Alert)
    assert alert.code == "TCC_TRANSACTION_PARKED"
    assert alert.severity == ALERT_SEVERITY_CRITICAL
    assert alert.subject == order.name
    assert alert.attributes["gid"] == order.gid and alert.attributes["phase"] == "cancel"
    assert "RetryTransaction" in alert.message
    assert alert.raise_time.ToDatetime() == clocked_orders.clock.now().replace(tzinfo=None)
    events = await wait_for(streams, STREAM_ORDERS, lambda es: len(es) >= 2)
    assert moves(of(events, order.order_id)) == [("PENDING_PAYMENT", "CANCELLED")]


async def test_a_payment_after_the_stock_was_released_raises_an_alert_naming_it(
    clocked_orders, inventory, make_snapshot, put_stock, streams
) -> None:  # type: ignore[no-untyped-def]
    from oms_inventory.domain.reservation import BranchKey

    stub = clocked_orders.stub
    await put_stock("TEE", 1)
    order = (
        await stub.SyncPlatformOrder(
            pb.SyncPlatformOrderRequest(
                request_id=new_id(), snapshot=make_snapshot("X1", [("TEE", 1)])
            )
        )
    ).order
    await inventory.running.inventory.reservations.release(
        BranchKey(order.gid, "inventory-01"), expired=True
    )
    paid = (
        await stub.RecordPayment(
            pb.RecordPaymentRequest(name=order.name, amount=order.total, payment_reference="PAY-X1")
        )
    ).order
    assert "PAYMENT_AFTER_STOCK_RELEASE" in paid.reason_codes

    alerts = await wait_for(streams, STREAM_ALERTS, lambda es: len(es) >= 1)
    assert len(alerts) == 1
    alert = alerts[0].unpack(Alert)
    assert alert.code == "TCC_TRANSACTION_PARKED"
    assert alert.attributes["phase"] == "confirm"
    assert alert.attributes["reason_codes"] == "PAYMENT_AFTER_STOCK_RELEASE"
    assert order.order_id in alert.message and "refund" in alert.message


async def _until_available(
    call: Callable[[], Awaitable[pb.SyncPlatformOrderResponse]],
) -> pb.SyncPlatformOrderResponse:
    """Retry like the gateway does while the client channel reconnects."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.UNAVAILABLE or loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)
