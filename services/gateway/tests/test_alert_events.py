"""Alerts leave the gateway as ``oms.events.v1.Alert`` events on ``oms.alerts``: written to
the outbox in the transaction that stores the alert row, published by a real relay to a
real Redis. Waits poll (up to 30 s); nothing asserts on wall-clock speed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from oms.events.v1.alert_events_pb2 import ALERT_SEVERITY_CRITICAL, ALERT_SEVERITY_WARNING, Alert
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms_gateway.adapters import orm
from oms_gateway.adapters.repository import InboxRepository
from oms_gateway.adapters.unit_of_work import GatewayUnitOfWork
from oms_gateway.bootstrap import MIGRATIONS, Running
from oms_gateway.domain.alerts import dead_lettered
from oms_gateway.domain.inbox import InboxEntry, InboxState
from oms_gateway.service_layer.feed_monitor import FeedMonitor
from omslib.clock import FakeClock
from omslib.db import UnitOfWork, create_engine, session_factory, upgrade_schema
from omslib.errors import InvalidArgument
from omslib.ids import new_id
from omslib.outbox import STREAM_ALERTS, OutboxNotifier, OutboxRelay
from omslib.redis_conn import connect
from omslib.testing.polling import eventually
from sqlalchemy.ext.asyncio import AsyncEngine

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
Kit = Any


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade_schema(engine, MIGRATIONS)
    yield engine
    await engine.dispose()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = connect(redis_url)
    yield client
    await client.aclose()


async def alert_events(client: redis.asyncio.Redis) -> list[tuple[EventEnvelope, Alert]]:
    out = []
    for _, fields in await client.xrange(STREAM_ALERTS):
        envelope = EventEnvelope.FromString(fields[b"envelope"])
        alert = Alert()
        assert envelope.payload.Unpack(alert)
        out.append((envelope, alert))
    return out


async def published_alerts(redis_url: str, what: str) -> list[tuple[EventEnvelope, Alert]]:
    """The alerts on oms.alerts, once there is at least one."""
    client = connect(redis_url)
    try:

        async def published() -> bool:
            return len(await alert_events(client)) >= 1

        await eventually(published, what=what)
        return await alert_events(client)
    finally:
        await client.aclose()


async def outbox_counts(engine: AsyncEngine) -> tuple[int, int]:
    """(rows, unsent rows) in the gateway's outbox."""
    c = orm.outbox.outbox.c
    async with engine.connect() as conn:
        total = await conn.scalar(sa.select(sa.func.count()).select_from(orm.outbox.outbox))
        unsent = await conn.scalar(sa.select(sa.func.count()).where(c.sent_at.is_(None)))
    return int(total or 0), int(unsent or 0)


async def alert_rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(sa.select(orm.alerts).order_by(orm.alerts.c.raised_at)))


async def push_at(sessions: Any, platform: str, at: datetime) -> None:
    async with UnitOfWork(sessions) as uow:
        entry = InboxEntry(new_id(), platform, new_id(), at, b"{}", {}, None, at)
        await InboxRepository(uow.session).add_if_absent(entry)
        await uow.commit()


async def test_a_feed_going_silent_publishes_exactly_one_alert_event_with_its_row(
    engine: AsyncEngine, redis_client: redis.asyncio.Redis
) -> None:
    sessions = session_factory(engine)
    clock = FakeClock(T0)
    notifier = OutboxNotifier()

    def monitor() -> FeedMonitor:  # a replica
        return FeedMonitor(
            lambda: GatewayUnitOfWork(sessions, notifier),
            clock,
            lambda: ["shop", "douyin"],
            silence=timedelta(minutes=3),
        )

    relay = OutboxRelay(sessions, orm.outbox, redis_client, notifier=notifier)
    relay_task = asyncio.create_task(relay.run())
    try:
        for n in range(20):  # a feed with a rhythm (a few sample pushes raise nothing)
            await push_at(sessions, "shop", T0 - timedelta(seconds=10 * n))
        clock.advance(timedelta(minutes=4))
        (alert,) = await monitor().check()

        async def published() -> bool:
            return len(await alert_events(redis_client)) >= 1

        await eventually(published, what="the alert on oms.alerts")
        clock.advance(timedelta(minutes=10))  # the same silence, seen again by two replicas
        assert await monitor().check() == [] and await monitor().check() == []

        async def all_sent() -> bool:
            return (await outbox_counts(engine))[1] == 0

        await eventually(all_sent, what="an empty outbox backlog")
    finally:
        relay.stop()
        await relay_task

    assert await outbox_counts(engine) == (1, 0)
    ((envelope, event),) = await alert_events(redis_client)
    assert (envelope.type, envelope.source) == ("Alert", "gateway")
    assert (envelope.aggregate_type, envelope.aggregate_id, envelope.sequence) == (
        "platform",
        "shop",
        1,
    )
    assert envelope.event_id == alert.id
    assert envelope.occur_time.ToDatetime(tzinfo=UTC) == T0 + timedelta(minutes=4)
    assert (event.code, event.subject, event.severity) == (
        "PLATFORM_FEED_SILENT",
        "platforms/shop",
        ALERT_SEVERITY_CRITICAL,
    )
    assert "no push from shop for 240 s" in event.message
    assert dict(event.attributes) == {
        "alert_id": alert.id,
        "episode": T0.isoformat(),
        "platform": "shop",
        "last_push_at": T0.isoformat(),
        "silent_for_seconds": "240",
        "threshold_seconds": "180",
        "usual_gap_seconds": "21",  # 20 pushes in the 430 s since the first
    }
    assert event.raise_time.ToDatetime(tzinfo=UTC) == T0 + timedelta(minutes=4)
    (row,) = await alert_rows(engine)
    assert (row.id, row.code, row.subject) == (alert.id, "PLATFORM_FEED_SILENT", "shop")


async def test_an_alert_rolled_back_leaves_neither_row_nor_event(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    alert = dead_lettered(
        new_id(),
        entry_id=new_id(),
        platform="shop",
        event_id="msg_1",
        attempts=1,
        error="boom",
        now=T0,
    )
    async with GatewayUnitOfWork(sessions) as uow:
        assert await uow.raise_alert(alert)
        event_ids = await uow.session.scalars(sa.select(orm.outbox.outbox.c.event_id))
        assert event_ids.all() == [alert.id]  # written with the row, in its transaction
    # Left without commit: rolled back.
    assert await alert_rows(engine) == []
    assert await outbox_counts(engine) == (0, 0)


async def test_a_dead_lettered_push_publishes_a_webhook_dead_lettered_alert(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit, redis_url: str
) -> None:
    service, recorder = orders
    recorder.fail = InvalidArgument("lines[0].sku is unknown", reason="UNKNOWN_SKU")
    running: Running = await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, OMS_REDIS_URL=redis_url
    )
    body, headers = kit.signed_push(shop_secret, kit.order_body("A1"), msg_id="msg_dead")
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        assert (await http.post("/webhooks/shop", content=body, headers=headers)).status_code == 202
    events = await published_alerts(redis_url, "the dead-letter alert on oms.alerts")

    (entry,) = await kit.inbox_rows(running)
    assert entry.state == "DEAD"
    ((envelope, event),) = events
    assert (envelope.aggregate_type, envelope.aggregate_id) == ("platform", "shop")
    assert (event.code, event.subject, event.severity) == (
        "WEBHOOK_DEAD_LETTERED",
        f"inbox/{entry.id}",
        ALERT_SEVERITY_WARNING,
    )
    attributes = dict(event.attributes)
    assert attributes["alert_id"] == envelope.event_id
    assert (attributes["platform"], attributes["inbox_id"]) == ("shop", entry.id)
    assert (attributes["event_id"], attributes["attempts"]) == ("msg_dead", "1")
    assert "UNKNOWN_SKU" in attributes["error"]
    assert f"oms inbox replay {entry.id}" in event.message
    (row,) = await alert_rows(running.gateway.engine)
    assert (row.id, row.code, row.subject) == (envelope.event_id, "WEBHOOK_DEAD_LETTERED", entry.id)


async def test_migrations_build_exactly_the_tables_of_the_orm(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diffs = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), orm.metadata)
        )
    assert [d for d in diffs if "alembic_version" not in repr(d)] == []


async def test_a_running_gateway_publishes_the_alert_of_a_feed_that_went_silent(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit, redis_url: str
) -> None:
    service, _ = orders
    running: Running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        shop_secret,
        OMS_REDIS_URL=redis_url,
        OMS_GATEWAY_FEED_SILENCE_SECONDS=0.5,
        OMS_GATEWAY_FEED_CHECK_SECONDS=0.1,
    )
    body, headers = kit.signed_push(shop_secret, kit.order_body("A1"), msg_id="msg_1")
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        assert (await http.post("/webhooks/shop", content=body, headers=headers)).status_code == 202
    # The feed's rhythm before that push (ten a second), stored in one go and already
    # delivered: one push alone is no rhythm, so nothing is raised before these are in.
    (last,) = [row.received_at for row in await kit.inbox_rows(running)]
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    async with UnitOfWork(session_factory(running.gateway.engine)) as uow:
        for n in range(1, 21):
            at = last - timedelta(seconds=0.1 * n)
            entry = InboxEntry(
                new_id(), "shop", new_id(), at, b"{}", {}, None, at, InboxState.DELIVERED
            )
            await InboxRepository(uow.session).add_if_absent(entry)
        await uow.commit()
    ((envelope, event),) = await published_alerts(redis_url, "the feed-silence alert on oms.alerts")
    assert (event.code, event.subject) == ("PLATFORM_FEED_SILENT", "platforms/shop")
    (row,) = await alert_rows(running.gateway.engine)
    assert (row.id, row.code, row.subject) == (envelope.event_id, "PLATFORM_FEED_SILENT", "shop")
