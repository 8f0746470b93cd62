"""Leases: several workers (replicas) on one inbox never deliver the same entry at once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from oms_gateway.adapters.orm import inbox
from oms_gateway.adapters.repository import InboxRepository
from oms_gateway.adapters.unit_of_work import GatewayUnitOfWork
from oms_gateway.bootstrap import MIGRATIONS
from oms_gateway.domain.inbox import InboxEntry
from oms_gateway.domain.retry_policy import RetryPolicy
from oms_gateway.domain.snapshot import OrderSnapshot
from oms_gateway.platforms.registry import PlatformRegistry
from oms_gateway.platforms.shop import ShopAdapter
from oms_gateway.service_layer.delivery import DeliveryOptions, DeliveryWorker
from oms_gateway.service_layer.ports import SyncResult
from omslib.clock import FakeClock, SystemClock
from omslib.db import UnitOfWork, create_engine, session_factory, upgrade_schema
from omslib.platforms.samples.shop import new_secret, sample_shop_order
from omslib.testing.polling import eventually
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class SlowOrders:
    """In-process OrdersPort that notices overlapping deliveries of one request id."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.calls: Counter[str] = Counter()
        self.active: Counter[str] = Counter()
        self.overlaps = 0

    async def sync_platform_order(self, request_id: str, snapshot: OrderSnapshot) -> SyncResult:
        self.calls[request_id] += 1
        self.active[request_id] += 1
        if self.active[request_id] > 1:
            self.overlaps += 1
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.active[request_id] -= 1
        return SyncResult(order_id=f"ord-{snapshot.platform_order_id}", outcome="CREATED")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade_schema(engine, MIGRATIONS)
    yield engine
    await engine.dispose()


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> Callable[[], GatewayUnitOfWork]:
    sessions = session_factory(engine)
    return lambda: GatewayUnitOfWork(sessions)


def platforms() -> PlatformRegistry:
    return PlatformRegistry([ShopAdapter(new_secret(), clock=SystemClock())])


async def store(uow_factory: Callable[[], UnitOfWork], count: int, now: datetime) -> list[str]:
    ids = []
    async with uow_factory() as uow:
        repo = InboxRepository(uow.session)
        for n in range(count):
            body = json.dumps(sample_shop_order(f"A{n}", [("SKU-1", 1)])).encode()
            entry = InboxEntry(
                id=f"01TEST{n:020d}",
                platform="shop",
                event_id=f"msg_{n}",
                received_at=now,
                body=body,
                headers={"webhook-id": f"msg_{n}"},
                traceparent=None,
                next_attempt_at=now,
            )
            assert await repo.add_if_absent(entry) is None
            ids.append(entry.id)
        await uow.commit()
    return ids


async def all_states(engine: AsyncEngine) -> Counter[str]:
    async with engine.connect() as conn:
        return Counter(row.state for row in await conn.execute(select(inbox.c.state)))


async def test_two_workers_on_one_inbox_deliver_each_entry_exactly_once(
    engine: AsyncEngine, uow_factory: Callable[[], UnitOfWork]
) -> None:
    await store(uow_factory, 30, datetime.now(UTC))
    orders = SlowOrders()
    options = DeliveryOptions(concurrency=4, sweep_interval_seconds=0.02)
    workers = [
        DeliveryWorker(uow_factory, orders, platforms(), SystemClock(), options, owner=name)
        for name in ("replica-a", "replica-b")
    ]
    for worker in workers:
        await worker.start()
    try:

        async def all_delivered() -> bool:
            return (await all_states(engine))["DELIVERED"] == 30

        await eventually(all_delivered, what="30 entries delivered")
    finally:
        for worker in workers:
            await worker.stop()
    assert await all_states(engine) == Counter({"DELIVERED": 30})
    assert orders.overlaps == 0
    assert set(orders.calls.values()) == {1}
    assert len(orders.calls) == 30


async def test_a_live_lease_blocks_other_workers_until_it_expires(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    (entry_id,) = await store(uow_factory, 1, T0)
    lease = timedelta(seconds=60)
    async with uow_factory() as uow:
        repo = InboxRepository(uow.session)
        assert await repo.claim(entry_id, "a", T0, T0 + lease)
        assert not await repo.claim(entry_id, "b", T0 + timedelta(seconds=59), T0 + lease)
        assert await repo.due_ids(T0 + timedelta(seconds=59), 10) == []
        later = T0 + timedelta(seconds=61)  # "a" crashed: its lease ran out
        assert await repo.due_ids(later, 10) == [entry_id]
        assert await repo.claim(entry_id, "b", later, later + lease)
        # "a" comes back late: its result must not overwrite "b"'s work.
        assert not await repo.mark_delivered(entry_id, "a", later, order_id="x", outcome="CREATED")
        assert await repo.mark_delivered(entry_id, "b", later, order_id="y", outcome="CREATED")
        await uow.commit()
    async with uow_factory() as uow:
        stored = await InboxRepository(uow.session).get(entry_id)
    assert stored is not None
    assert (stored.state.value, stored.order_id, stored.lease_owner) == ("DELIVERED", "y", None)


async def test_entry_left_by_a_crashed_worker_is_delivered_after_its_lease(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    (entry_id,) = await store(uow_factory, 1, T0)
    async with uow_factory() as uow:
        assert await InboxRepository(uow.session).claim(
            entry_id, "dead-replica", T0, T0 + timedelta(seconds=60)
        )
        await uow.commit()
    clock = FakeClock(T0 + timedelta(seconds=30))
    orders = SlowOrders(delay=0)
    worker = DeliveryWorker(uow_factory, orders, platforms(), clock, owner="survivor")
    assert await worker.run_once() == 0
    clock.advance(timedelta(seconds=31))
    assert await worker.run_once() == 1
    assert orders.calls == Counter({"shop:msg_0": 1})


async def test_graceful_stop_releases_leases_of_unfinished_deliveries(
    engine: AsyncEngine, uow_factory: Callable[[], UnitOfWork]
) -> None:
    (entry_id,) = await store(uow_factory, 1, datetime.now(UTC))
    orders = SlowOrders(delay=30)
    options = DeliveryOptions(sweep_interval_seconds=0.02, shutdown_grace_seconds=0.1)
    worker = DeliveryWorker(uow_factory, orders, platforms(), SystemClock(), options, owner="w")
    await worker.start()
    await eventually(lambda: orders.calls, what="the delivery under way")
    await worker.stop()
    async with uow_factory() as uow:
        stored = await InboxRepository(uow.session).get(entry_id)
    assert stored is not None
    assert (stored.state.value, stored.lease_owner, stored.attempts) == ("RECEIVED", None, 0)


async def test_finished_in_flight_delivery_is_recorded_on_stop(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    (entry_id,) = await store(uow_factory, 1, datetime.now(UTC))
    orders = SlowOrders(delay=0.2)
    options = DeliveryOptions(sweep_interval_seconds=0.02, shutdown_grace_seconds=5)
    worker = DeliveryWorker(uow_factory, orders, platforms(), SystemClock(), options, owner="w")
    await worker.start()
    await eventually(lambda: orders.calls, what="the delivery under way")
    await worker.stop()
    async with uow_factory() as uow:
        stored = await InboxRepository(uow.session).get(entry_id)
    assert stored is not None and stored.state.value == "DELIVERED"


def test_retry_policy_is_wired_from_settings(kit: Any) -> None:
    from oms_gateway.bootstrap import delivery_options

    settings = kit.gateway_settings("sqlite:///x.db", "127.0.0.1:1", None)
    assert delivery_options(settings).retry == RetryPolicy(0.05, 0.3, 20)


async def test_a_restarted_process_takes_back_its_killed_predecessors_deliveries_at_once(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    taken, other = await store(uow_factory, 2, T0)
    async with uow_factory() as uow:
        repo = InboxRepository(uow.session)
        # The killed process held one lease; a live replica in another slot holds one.
        assert await repo.claim(taken, "host:8080:0", T0, T0 + timedelta(seconds=60))
        assert await repo.claim(other, "host:8080:1", T0, T0 + timedelta(seconds=60))
        await uow.commit()
    clock = FakeClock(T0 + timedelta(seconds=2))  # both leases have ~a minute to run
    orders = SlowOrders(delay=0)
    worker = DeliveryWorker(
        uow_factory, orders, platforms(), clock, owner="host:8080:0", reclaim_on_start=True
    )
    await worker.start()
    try:
        await eventually(lambda: orders.calls, what="the predecessor's delivery taken back")
    finally:
        await worker.stop()
    assert orders.calls == Counter({"shop:msg_0": 1})
    async with uow_factory() as uow:
        still_leased = await InboxRepository(uow.session).get(other)
    assert still_leased is not None and still_leased.lease_owner == "host:8080:1"
