"""The outbox inside orders: which saves write which events, and who wakes the relay.

No Redis here: these read the outbox table and count the relay's wake-ups.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from oms.events.v1.alert_events_pb2 import Alert
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.order_events_pb2 import OrderCreated
from oms.orders.v1 import order_pb2
from oms_orders import bootstrap
from oms_orders.adapters import order_events, orm
from oms_orders.adapters.repository import OrderRepository
from oms_orders.config import Settings
from oms_orders.domain.events import OrderAnnounced, StateChanged, StockEffect, StockSettlement
from oms_orders.domain.order import Order, Payment
from oms_orders.domain.values import StockAllocation
from oms_orders.entrypoints.proto_mapping import snapshot_from_proto
from oms_orders.service_layer.commands import RecordPayment
from oms_orders.service_layer.sync_platform_order import SyncPlatformOrder
from omslib.db import create_engine, session_factory, upgrade_schema
from omslib.outbox import STREAM_ALERTS, OutboxNotifier
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OUTBOX = orm.outbox.outbox


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        await upgrade_schema(engine, bootstrap.MIGRATIONS)
        yield session_factory(engine)
    finally:
        await engine.dispose()


def placed(make_snapshot) -> Order:  # type: ignore[no-untyped-def]
    snapshot = snapshot_from_proto(make_snapshot("OB-1", [("TEE", 2)]))
    return Order.place(snapshot, gid="G" * 26, now=NOW, payment_window=timedelta(minutes=30))


async def written(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
    async with sessions() as session:
        rows = (
            await session.execute(
                sa.select(OUTBOX.c.event_type, OUTBOX.c.sequence).order_by(OUTBOX.c.id)
            )
        ).all()
    return [(r.event_type, r.sequence) for r in rows]


async def test_an_order_is_announced_when_its_try_outcome_is_recorded_not_when_placed(
    sessions, make_snapshot
) -> None:  # type: ignore[no-untyped-def]
    order = placed(make_snapshot)
    assert not order.announced  # still waiting for its Try
    async with sessions() as session:
        await OrderRepository(session).add(order)
        await session.commit()
    assert await written(sessions) == []

    async with sessions() as session:
        repo = OrderRepository(session)
        loaded = await repo.get(order.order_id)
        assert loaded is not None
        reserved = loaded.record_reservation([StockAllocation("TEE", "HZ1", 2)], at=NOW)
        assert reserved == [OrderAnnounced()]
        await repo.save(loaded)
        await order_events.publish(session, loaded, reserved)
        payment = Payment(loaded.total, "PAY-1", NOW)
        paid = loaded.pay(payment, at=NOW, actor="test")
        assert paid == [StateChanged(1), StockSettlement(StockEffect.DEDUCT)]
        await repo.save(loaded)
        await order_events.publish(session, loaded, paid)
        await session.commit()
    assert await written(sessions) == [("OrderCreated", 1), ("OrderStateChanged", 2)]

    async with sessions() as session:
        envelope = (await session.execute(sa.select(OUTBOX.c.envelope).limit(1))).scalar_one()
    created = OrderCreated()
    assert EventEnvelope.FromString(envelope).payload.Unpack(created)
    assert created.order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert [a.warehouse_code for a in created.order.allocations] == ["HZ1"]


async def test_the_repository_stores_and_publishes_nothing_by_itself(
    sessions, make_snapshot
) -> None:  # type: ignore[no-untyped-def]
    order = placed(make_snapshot)
    async with sessions() as session:
        repo = OrderRepository(session)
        await repo.add(order)
        order.record_reservation([StockAllocation("TEE", "HZ1", 2)], at=NOW)
        order.cancel(reason="buyer", code="CANCELLED", actor="test", at=NOW)
        await repo.save(order)
        await session.commit()
    assert await written(sessions) == []


class CountingNotifier(OutboxNotifier):
    """The relay's wake-up, counting the calls (a relay would take them as they come)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def notify(self) -> None:
        self.calls += 1
        super().notify()


@pytest.fixture
async def wired(
    inventory, make_database_url
) -> AsyncIterator[tuple[bootstrap.Orders, CountingNotifier]]:  # type: ignore[no-untyped-def]
    """Orders as bootstrap wires it (relay and server not started), with a counting wake-up."""
    settings = Settings(
        OMS_ORDERS_PORT=0,
        OMS_REDIS_URL="redis://127.0.0.1:6379/15",  # never reached: the relay does not run
        OMS_ORDERS_DATABASE_URL=make_database_url("orders"),
        OMS_INVENTORY_ADDR=inventory.addr,
        OMS_ORDERS_INVENTORY_TIMEOUT_SECONDS=5,
    )
    notifier = CountingNotifier()
    orders = bootstrap.build(settings, notifier=notifier)
    try:
        await upgrade_schema(orders.engine, bootstrap.MIGRATIONS)
        yield orders, notifier
    finally:
        await orders.close()


async def test_an_event_committed_on_any_orders_path_wakes_the_relay_and_a_rollback_does_not(
    wired, put_stock, make_snapshot
) -> None:  # type: ignore[no-untyped-def]
    orders, notifier = wired
    sessions = session_factory(orders.engine)
    await put_stock("TEE", 5)

    # The Try's outcome is recorded in the coordinator's own session: OrderCreated.
    snapshot = snapshot_from_proto(make_snapshot("OB-2", [("TEE", 2)]))
    placed = (await orders.sync(SyncPlatformOrder("shop:ob-2", snapshot))).order
    assert await written(sessions) == [("OrderCreated", 1)]
    assert notifier.calls == 1

    # A handler's unit of work commits PAID; the Confirm round's commit carries what the
    # completion hook wrote (ALLOCATED, approved by the rules).
    await orders.handlers.pay(RecordPayment(placed.order_id, placed.total, "PAY-2"))
    assert await written(sessions) == [
        ("OrderCreated", 1),
        ("OrderStateChanged", 2),
        ("OrderStateChanged", 3),
    ]
    assert notifier.calls == 3

    # Events written and then rolled back wake nothing, whether the unit of work is
    # left without a commit or rolled back before one.
    alert = Alert(code="TEST")
    async with orders.uow_factory() as uow:
        await uow.emit(STREAM_ALERTS, "transaction", "G1", alert, occur_time=NOW)
    async with orders.uow_factory() as uow:
        await uow.emit(STREAM_ALERTS, "transaction", "G1", alert, occur_time=NOW)
        await uow.rollback()
        await uow.commit()
    assert notifier.calls == 3
    async with orders.uow_factory() as uow:
        await uow.emit(STREAM_ALERTS, "transaction", "G1", alert, occur_time=NOW)
        assert notifier.calls == 3  # not before the commit
        await uow.commit()
    assert notifier.calls == 4
    assert (await written(sessions))[-1] == ("Alert", 1)


async def test_revision_0003_creates_the_outbox_tables_of_the_model(sessions) -> None:  # type: ignore[no-untyped-def]
    def diff(connection: sa.Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        return [d for d in compare_metadata(context, orm.metadata) if "outbox" in str(d)]

    async with sessions() as session:
        connection = await session.connection()
        assert await connection.run_sync(diff) == []
