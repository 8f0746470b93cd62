"""Outbox and consumer tables in a fresh database, for the event tests (omslib's and the
inventory's channel sync); also run by them as a subprocess (relay/consumer to be killed).

python -m omslib.testing.events_harness relay-hang DB_URL REDIS_URL MARKER
python -m omslib.testing.events_harness consumer-hang DB_URL REDIS_URL GROUP NAME HANG_AT MARKER
    GROUP_COMMIT(0|1)
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from oms.events.v1.inventory_events_pb2 import AvailabilityChanged
from oms.inventory.v1.inventory_pb2 import Availability
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from omslib.db import create_engine, session_factory
from omslib.events import ConsumerSettings, EventConsumer, ReceivedEvent, consumer_tables
from omslib.outbox import (
    STREAM_INVENTORY,
    OutboxNotifier,
    OutboxRelay,
    add_event,
    outbox_tables,
)
from omslib.redis_conn import connect

metadata = sa.MetaData()
OUTBOX = outbox_tables(metadata)
Sessions = async_sessionmaker[AsyncSession]
CONSUMER = consumer_tables(metadata)
# The "effect" of handling an event, written in the handler's transaction.
applied = sa.Table(
    "applied",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(26), nullable=False),
    sa.Column("aggregate_id", sa.String(128), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("consumer", sa.String(64), nullable=False),
)


async def open_db(url: str) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine, session_factory(engine)


async def emit(
    sessions: async_sessionmaker[AsyncSession],
    changes: Iterable[tuple[str, int]],
    notifier: OutboxNotifier | None = None,
) -> None:
    """One committed transaction per (sku, available) change, each with its event."""
    for sku, available in changes:
        async with sessions() as session, session.begin():
            payload = AvailabilityChanged(availability=Availability(sku=sku, available=available))
            await add_event(
                session,
                OUTBOX,
                stream=STREAM_INVENTORY,
                payload=payload,
                source="inventory",
                aggregate_type="sku",
                aggregate_id=sku,
            )
        if notifier is not None:
            notifier.notify()


def recorder(name: str, hang_at: int | None = None, marker: Path | None = None):  # type: ignore[no-untyped-def]
    """A handler writing one ``applied`` row; the ``hang_at``-th call hangs before commit."""
    calls = 0

    async def handle(session: AsyncSession, event: ReceivedEvent) -> None:
        nonlocal calls
        calls += 1
        if hang_at is not None and calls == hang_at:
            assert marker is not None
            await asyncio.to_thread(marker.write_text, str(calls))
            await asyncio.Event().wait()
        env = event.envelope
        await session.execute(
            sa.insert(applied).values(
                event_id=env.event_id,
                aggregate_id=env.aggregate_id,
                sequence=env.sequence,
                consumer=name,
            )
        )

    return handle


async def _relay_hang(db_url: str, redis_url: str, marker: str) -> None:
    _engine, sessions = await open_db(db_url)

    async def hang(events: object) -> None:
        await asyncio.to_thread(Path(marker).write_text, "published")
        await asyncio.Event().wait()  # killed here: after XADD, before marking sent

    relay = OutboxRelay(sessions, OUTBOX, connect(redis_url), after_publish=hang)
    await relay.publish_pending()


async def _consumer_hang(
    db_url: str, redis_url: str, group: str, name: str, hang_at: str, marker: str, group_commit: str
) -> None:
    _engine, sessions = await open_db(db_url)
    consumer = EventConsumer(
        connect(redis_url),
        sessions,
        CONSUMER,
        group=group,
        name=name,
        streams=[STREAM_INVENTORY],
        handlers={"AvailabilityChanged": recorder(name, int(hang_at), Path(marker))},
        settings=ConsumerSettings(batch_size=50, group_commit=group_commit == "1"),
    )
    await consumer.run()


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "relay-hang":
        asyncio.run(_relay_hang(*args))
    elif mode == "consumer-hang":
        asyncio.run(_consumer_hang(*args))
    else:
        raise SystemExit(f"unknown mode {mode}")
