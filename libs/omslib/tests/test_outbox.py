import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio
import sqlalchemy as sa
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_events_pb2 import AvailabilityChanged
from oms.inventory.v1.inventory_pb2 import Availability
from omslib.outbox import STREAM_INVENTORY, OutboxRelay, RelaySettings, add_event
from omslib.redis_conn import EmbeddedRedis, connect
from omslib.telemetry import context_from_traceparent
from omslib.testing.events_harness import OUTBOX, Sessions, emit
from omslib.testing.net import free_port
from omslib.testing.polling import eventually
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = connect(redis_url)
    yield client
    await client.aclose()


async def stream_events(client: redis.asyncio.Redis, stream: str) -> list[EventEnvelope]:
    entries = await client.xrange(stream)
    return [EventEnvelope.FromString(fields[b"envelope"]) for _, fields in entries]


def first_sequences(events: list[EventEnvelope]) -> dict[str, list[int]]:
    """Per aggregate, sequences in stream order, duplicates dropped (consumers dedupe)."""
    seen: set[str] = set()
    out: dict[str, list[int]] = defaultdict(list)
    for e in events:
        if e.event_id not in seen:
            seen.add(e.event_id)
            out[e.aggregate_id].append(e.sequence)
    return dict(out)


async def unsent(sessions: Sessions) -> int:
    async with sessions() as session:
        query = sa.select(sa.func.count()).where(OUTBOX.outbox.c.sent_at.is_(None))
        return int((await session.execute(query)).scalar_one())


async def _all_sent(sessions: Sessions) -> bool:
    return await unsent(sessions) == 0


async def _has_entries(client: redis.asyncio.Redis) -> bool:
    return bool(await client.xlen(STREAM_INVENTORY))


async def test_event_is_written_only_when_the_change_commits(sessions: Sessions) -> None:
    payload = AvailabilityChanged(availability=Availability(sku="A", available=3))
    async with sessions() as session, session.begin():
        env = await add_event(
            session,
            OUTBOX,
            stream=STREAM_INVENTORY,
            payload=payload,
            source="inventory",
            aggregate_type="sku",
            aggregate_id="A",
        )
    async with sessions() as session:
        await add_event(
            session,
            OUTBOX,
            stream=STREAM_INVENTORY,
            payload=payload,
            source="inventory",
            aggregate_type="sku",
            aggregate_id="A",
        )
        await session.rollback()
    assert await unsent(sessions) == 1
    assert env.type == "AvailabilityChanged" and env.sequence == 1 and env.source == "inventory"
    assert env.payload.type_url.endswith("oms.events.v1.AvailabilityChanged")


async def test_sequence_increases_per_aggregate(sessions: Sessions) -> None:
    await emit(sessions, [("A", 1), ("B", 1), ("A", 2), ("A", 3), ("B", 2)])
    async with sessions() as session:
        c = OUTBOX.outbox.c
        rows = (await session.execute(sa.select(c.aggregate_id, c.sequence).order_by(c.id))).all()
    assert [tuple(r) for r in rows] == [("A", 1), ("B", 1), ("A", 2), ("A", 3), ("B", 2)]


async def test_envelope_carries_the_current_traceparent(sessions: Sessions) -> None:
    tracer = TracerProvider().get_tracer("t")
    payload = AvailabilityChanged(availability=Availability(sku="A", available=3))
    with tracer.start_as_current_span("change") as span:
        async with sessions() as session, session.begin():
            env = await add_event(
                session,
                OUTBOX,
                stream=STREAM_INVENTORY,
                payload=payload,
                source="inventory",
                aggregate_type="sku",
                aggregate_id="A",
            )
    linked = trace.get_current_span(context_from_traceparent(env.traceparent))
    assert linked.get_span_context().span_id == span.get_span_context().span_id


async def test_relay_publishes_in_order_marks_sent_and_trims(
    sessions: Sessions, redis_client: redis.asyncio.Redis
) -> None:
    await emit(sessions, [(sku, n) for n in range(10) for sku in ("A", "B", "C")])
    settings = RelaySettings(batch_size=7, stream_maxlen=20, approximate_trim=False)
    relay = OutboxRelay(sessions, OUTBOX, redis_client, settings=settings)
    total = 0
    while published := await relay.publish_pending():
        total += published
    assert total == 30
    assert await unsent(sessions) == 0
    events = await stream_events(redis_client, STREAM_INVENTORY)
    assert len(events) == 20  # trimmed to MAXLEN
    for seqs in first_sequences(events).values():
        assert seqs == sorted(seqs)


async def test_relay_is_woken_by_the_notifier_not_the_sweep(
    sessions: Sessions, redis_client: redis.asyncio.Redis
) -> None:
    relay = OutboxRelay(sessions, OUTBOX, redis_client, settings=RelaySettings(sweep_interval=3600))
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0)
        await emit(sessions, [("A", 1)], relay.notifier)
        await eventually(lambda: _has_entries(redis_client))
    finally:
        relay.stop()
        await task


async def test_replicas_share_the_work_and_keep_each_aggregate_in_order(
    sessions: Sessions, redis_client: redis.asyncio.Redis
) -> None:
    skus = [f"S{n}" for n in range(8)]
    changes = [(sku, n) for n in range(15) for sku in skus]
    settings = RelaySettings(batch_size=10, max_aggregates=3)
    relays = [
        OutboxRelay(sessions, OUTBOX, redis_client, settings=settings, owner=f"r{i}")
        for i in range(3)
    ]
    writer = asyncio.create_task(emit(sessions, changes))

    async def drain(relay: OutboxRelay) -> int:
        count = 0
        while not writer.done() or await unsent(sessions):
            count += await relay.publish_pending()
            await asyncio.sleep(0)
        return count

    counts = await asyncio.gather(*(drain(r) for r in relays))
    await writer
    events = await stream_events(redis_client, STREAM_INVENTORY)
    assert sum(counts) == len(changes) == len(events)  # claims never overlapped here
    assert sum(1 for c in counts if c) >= 2
    assert first_sequences(events) == {sku: list(range(1, 16)) for sku in skus}


async def test_events_wait_while_redis_is_down_and_all_go_out_in_order_after(
    sessions: Sessions, tmp_path: Path
) -> None:
    # Our own server on a fixed port, so it can come back where clients expect it.
    server = EmbeddedRedis(tmp_path / "redis", port=free_port())
    url = server.start()
    client = connect(url)
    relay = OutboxRelay(sessions, OUTBOX, client, settings=RelaySettings(batch_size=50))
    task = asyncio.create_task(relay.run())
    try:
        await emit(sessions, [("A", 0)], relay.notifier)
        await eventually(lambda: _all_sent(sessions))
        server.stop()
        failed_before = relay.failed_passes
        changes = [(sku, n) for n in range(1, 40) for sku in ("A", "B")]
        await emit(sessions, changes, relay.notifier)  # commits succeed with Redis down
        await eventually(lambda: relay.failed_passes >= failed_before + 2)
        assert await unsent(sessions) == len(changes)
        server.start()
        await eventually(lambda: _all_sent(sessions))
        events = await stream_events(client, STREAM_INVENTORY)
        # The server restarted from its snapshot, which may or may not hold A/1.
        after = [e for e in events if not (e.aggregate_id == "A" and e.sequence == 1)]
        assert first_sequences(after) == {"A": list(range(2, 41)), "B": list(range(1, 40))}
    finally:
        relay.stop()
        await task
        await client.aclose()
        server.stop()


async def test_stop_cuts_a_back_off_pause_short(sessions: Sessions) -> None:
    # Nothing listens on this port: the first pass fails and the relay pauses for an hour.
    client = connect(f"redis://127.0.0.1:{free_port()}/0")
    relay = OutboxRelay(
        sessions, OUTBOX, client, settings=RelaySettings(min_backoff=3600, max_backoff=3600)
    )
    task = asyncio.create_task(relay.run())
    try:
        await emit(sessions, [("A", 0)], relay.notifier)
        await eventually(lambda: _failed(relay))
    finally:
        relay.stop()
        # Well under the hour-long back-off: stop does not wait for the pause to end.
        await asyncio.wait_for(task, timeout=30)
        await client.aclose()
    assert await unsent(sessions) == 1


async def _failed(relay: OutboxRelay) -> bool:
    return relay.failed_passes >= 1


async def test_purge_removes_only_old_sent_rows(
    sessions: Sessions, redis_client: redis.asyncio.Redis
) -> None:
    await emit(sessions, [("A", 1), ("A", 2)])
    relay = OutboxRelay(sessions, OUTBOX, redis_client)
    await relay.publish_pending()
    await emit(sessions, [("A", 3)])
    from omslib.clock import SystemClock

    assert await relay.purge_sent(SystemClock().now() + timedelta(seconds=1)) == 2
    assert await unsent(sessions) == 1
