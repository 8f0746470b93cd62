"""Benchmark of domain events: events per second through outbox -> Redis -> consumer,
next to a bare Redis XADD rate measured in the same run against the same server.

Measures, on SQLite by default or PostgreSQL when OMS_BENCH_POSTGRES_URL names a
server, with an embedded redis-server unless OMS_BENCH_REDIS_URL names one:

- floor: bare XADD, one round trip each, and pipelined in batches like the relay;
- write: committed transactions each writing one event to the outbox;
- drain: a backlog relayed to Redis and handled by a consumer (idempotency record
  written per event), i.e. what happens after Redis comes back;
- end to end: writers, relay and consumer running together, until the last event
  is handled.

Prints figures; asserts nothing.

    .venv/bin/python tests/bench/bench_events.py [--events 5000] [--aggregates 100] [--writers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa
from oms.events.v1.inventory_events_pb2 import AvailabilityChanged
from oms.inventory.v1.inventory_pb2 import Availability
from omslib.db import create_engine, session_factory
from omslib.events import ConsumerSettings, EventConsumer, ReceivedEvent, consumer_tables
from omslib.outbox import STREAM_INVENTORY, OutboxNotifier, OutboxRelay, add_event, outbox_tables
from omslib.redis_conn import EmbeddedRedis, connect
from omslib.testing.postgres import create_database, database_url, drop_database, fresh_name
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

metadata = sa.MetaData()
OUTBOX = outbox_tables(metadata)
CONSUMER = consumer_tables(metadata)
Sessions = async_sessionmaker[AsyncSession]


async def timed(label: str, count: int, work: Callable[[], Awaitable[None]]) -> tuple[str, float]:
    started = time.perf_counter()
    await work()
    return label, count / (time.perf_counter() - started)


async def write(
    sessions: Sessions, n: int, aggregates: int, writers: int, note: OutboxNotifier
) -> None:
    queue = list(range(n))

    async def writer() -> None:
        while queue:
            i = queue.pop()
            sku = f"SKU-{i % aggregates}"
            async with sessions() as session, session.begin():
                payload = AvailabilityChanged(availability=Availability(sku=sku, available=i))
                await add_event(
                    session,
                    OUTBOX,
                    stream=STREAM_INVENTORY,
                    payload=payload,
                    source="bench",
                    aggregate_type="sku",
                    aggregate_id=sku,
                )
            note.notify()

    await asyncio.gather(*(writer() for _ in range(writers)))


async def run(
    db_url: str, redis_url: str, n: int, aggregates: int, writers: int
) -> list[tuple[str, float]]:
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    sessions = session_factory(engine)
    client = connect(redis_url)
    await client.delete("bench.xadd", STREAM_INVENTORY)
    results = []
    fields = {"envelope": b"x" * 120, "type": "AvailabilityChanged"}

    async def bare_xadd() -> None:
        for _ in range(n):
            await client.xadd("bench.xadd", fields, maxlen=100_000, approximate=True)

    async def pipelined_xadd() -> None:
        for start in range(0, n, 500):
            pipe = client.pipeline(transaction=False)
            for _ in range(min(500, n - start)):
                pipe.xadd("bench.xadd", fields, maxlen=100_000, approximate=True)
            await pipe.execute()

    results.append(await timed("floor: bare XADD (1 round trip each)", n, bare_xadd))
    results.append(await timed("floor: XADD pipelined by 500", n, pipelined_xadd))

    handled = 0
    done = asyncio.Event()
    target = 0

    async def handle(session: AsyncSession, event: ReceivedEvent) -> None:
        nonlocal handled
        handled += 1
        if handled >= target:
            done.set()

    relay = OutboxRelay(sessions, OUTBOX, client)
    consumer = EventConsumer(
        client,
        sessions,
        CONSUMER,
        group="bench",
        name="c1",
        streams=[STREAM_INVENTORY],
        handlers={"AvailabilityChanged": handle},
        settings=ConsumerSettings(batch_size=500, block_ms=100),
    )
    await consumer.ensure_groups()

    results.append(
        await timed(
            "write: 1 event per committed transaction",
            n,
            lambda: write(sessions, n, aggregates, writers, relay.notifier),
        )
    )

    async def drain() -> None:
        tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
        try:
            await done.wait()
        finally:
            relay.stop()
            consumer.stop()
            await asyncio.gather(*tasks)

    target = n
    results.append(await timed("drain: outbox backlog -> Redis -> consumer", n, drain))

    async def end_to_end() -> None:
        done.clear()
        tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
        try:
            await write(sessions, n, aggregates, writers, relay.notifier)
            await done.wait()
        finally:
            relay.stop()
            consumer.stop()
            await asyncio.gather(*tasks)

    target = 2 * n
    results.append(await timed("end to end: write -> outbox -> Redis -> consumer", n, end_to_end))
    await client.delete("bench.xadd", STREAM_INVENTORY)
    await client.aclose()
    await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--aggregates", type=int, default=100)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    admin = os.environ.get("OMS_BENCH_POSTGRES_URL")
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = None
        redis_url = os.environ.get("OMS_BENCH_REDIS_URL")
        if not redis_url:
            redis_server = EmbeddedRedis(Path(tmp) / "redis")
            redis_url = redis_server.start()
        name = fresh_name("bench_events") if admin else ""
        if admin:
            create_database(admin, name)
            db_url = database_url(admin, name)
        else:
            db_url = f"sqlite+aiosqlite:///{tmp}/events.db"
        backend = "postgresql" if admin else "sqlite"
        try:
            results = asyncio.run(
                run(db_url, redis_url, args.events, args.aggregates, args.writers)
            )
        finally:
            if admin:
                drop_database(admin, name)
            if redis_server is not None:
                redis_server.stop()
    print(
        f"\nevents on {backend}, {args.events} events over {args.aggregates} aggregates, "
        f"{args.writers} writers, redis {'external' if redis_server is None else 'embedded'}"
    )
    floor = results[0][1]
    print(f"{'measure':<52}{'events/s':>10}{'vs XADD':>10}")
    for label, rate in results:
        print(f"{label:<52}{rate:>10.0f}{rate / floor:>10.2f}")


if __name__ == "__main__":
    sys.exit(main())
