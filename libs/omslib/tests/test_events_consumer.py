import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio
import sqlalchemy as sa
from omslib.clock import FakeClock, SystemClock
from omslib.events import ConsumerSettings, EventConsumer, ReceivedEvent, parked_events
from omslib.outbox import STREAM_INVENTORY, OutboxRelay
from omslib.redis_conn import connect
from omslib.testing import events_harness
from omslib.testing.events_harness import (
    CONSUMER,
    OUTBOX,
    Sessions,
    applied,
    emit,
    recorder,
)
from omslib.testing.otlp import OtlpReceiver
from omslib.testing.polling import eventually
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from sqlalchemy.ext.asyncio import AsyncSession

HARNESS = Path(events_harness.__file__)
GROUP = "test-group"


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = connect(redis_url)
    yield client
    await client.aclose()


def consumer(
    client: redis.asyncio.Redis, sessions: Sessions, name: str, handler=None, **settings
) -> EventConsumer:  # type: ignore[no-untyped-def]
    return EventConsumer(
        client,
        sessions,
        CONSUMER,
        group=GROUP,
        name=name,
        streams=[STREAM_INVENTORY],
        handlers={"AvailabilityChanged": handler or recorder(name)},
        settings=ConsumerSettings(**{"retry_interval": 0.0, **settings}),
    )


async def drain(*consumers: EventConsumer) -> None:
    for c in consumers:
        await c.ensure_groups()
    while sum([await c.poll_once(block_ms=0) for c in consumers]):
        pass


async def applied_rows(sessions: Sessions) -> list[tuple[str, str, int, str]]:
    async with sessions() as session:
        c = applied.c
        query = sa.select(c.event_id, c.aggregate_id, c.sequence, c.consumer).order_by(c.id)
        return [tuple(r) for r in (await session.execute(query)).all()]  # type: ignore[misc]


async def pending_count(client: redis.asyncio.Redis) -> int:
    return int((await client.xpending(STREAM_INVENTORY, GROUP))["pending"])


async def publish_all(sessions: Sessions, client: redis.asyncio.Redis) -> None:
    relay = OutboxRelay(sessions, OUTBOX, client)
    while await relay.publish_pending():
        pass


async def test_duplicates_are_applied_once_and_everything_is_acked(
    sessions: Sessions, redis_client: redis.asyncio.Redis
) -> None:
    await emit(sessions, [("A", 1), ("A", 2), ("B", 1)])
    await publish_all(sessions, redis_client)
    entries = await redis_client.xrange(STREAM_INVENTORY)
    for _, fields in entries:  # the relay may publish twice
        await redis_client.xadd(STREAM_INVENTORY, fields)
    await drain(consumer(redis_client, sessions, "c1"), consumer(redis_client, sessions, "c2"))
    rows = await applied_rows(sessions)
    assert sorted((r[1], r[2]) for r in rows) == [("A", 1), ("A", 2), ("B", 1)]
    assert await pending_count(redis_client) == 0


async def test_poison_event_is_parked_with_its_error_and_does_not_block(
    sessions: Sessions, redis_client: redis.asyncio.Redis
) -> None:
    await emit(sessions, [("A", 1), ("BAD", 1), ("A", 2)])
    await publish_all(sessions, redis_client)
    record = recorder("c1")

    async def handler(session: AsyncSession, event: ReceivedEvent) -> None:
        if event.envelope.aggregate_id == "BAD":
            raise ValueError("cannot handle BAD")
        await record(session, event)

    c1 = consumer(redis_client, sessions, "c1", handler, max_attempts=3)
    await drain(c1)
    assert [(r[1], r[2]) for r in await applied_rows(sessions)] == [("A", 1), ("A", 2)]
    (parked,) = await parked_events(sessions, CONSUMER, GROUP)
    assert parked["attempts"] == 3 and "cannot handle BAD" in parked["error"]
    assert parked["event_type"] == "AvailabilityChanged"
    assert await pending_count(redis_client) == 0
    async with sessions() as session:  # the failed attempts left no processed record
        processed = (await session.execute(sa.select(CONSUMER.processed.c.event_id))).all()
    assert len(processed) == 2


async def test_old_processed_ids_can_be_purged(
    sessions: Sessions, redis_client: redis.asyncio.Redis
) -> None:
    await emit(sessions, [("A", 1), ("A", 2)])
    await publish_all(sessions, redis_client)
    c1 = consumer(redis_client, sessions, "c1")
    await drain(c1)
    later = SystemClock().now() + timedelta(seconds=1)
    assert await c1.purge_processed(later, limit=1) == 1
    assert await c1.purge_processed(later) == 1
    assert await c1.purge_processed(later) == 0


async def test_events_of_other_types_are_acked_without_handling(
    sessions: Sessions, redis_client: redis.asyncio.Redis
) -> None:
    await emit(sessions, [("A", 1)])
    await publish_all(sessions, redis_client)
    c1 = EventConsumer(
        redis_client,
        sessions,
        CONSUMER,
        group=GROUP,
        name="c1",
        streams=[STREAM_INVENTORY],
        handlers={"OrderCreated": recorder("c1")},
    )
    await drain(c1)
    assert await applied_rows(sessions) == []
    assert await pending_count(redis_client) == 0


async def wait_for_file(path: Path, proc: asyncio.subprocess.Process) -> None:
    def written() -> bool:
        assert proc.returncode is None, "subprocess ended early"
        return path.exists()

    await eventually(written)


async def test_relay_killed_between_publish_and_mark_gives_a_duplicate_applied_once(
    sessions: Sessions,
    redis_client: redis.asyncio.Redis,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    await emit(sessions, [("A", n) for n in range(5)])
    marker = tmp_path / "published"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HARNESS), "relay-hang", database_url, redis_url, str(marker)
    )
    try:
        await wait_for_file(marker, proc)
    finally:
        proc.kill()  # SIGKILL: no chance to mark anything sent
        await proc.wait()
    assert await redis_client.xlen(STREAM_INVENTORY) == 5
    # A replica whose clock says the dead relay's lease has expired publishes again.
    later = FakeClock(SystemClock().now() + timedelta(minutes=5))
    relay = OutboxRelay(sessions, OUTBOX, redis_client, clock=later)
    assert await relay.publish_pending() == 5
    assert await redis_client.xlen(STREAM_INVENTORY) == 10
    await drain(consumer(redis_client, sessions, "c1"))
    rows = await applied_rows(sessions)
    assert [(r[1], r[2]) for r in rows] == [("A", n) for n in range(1, 6)]
    assert await pending_count(redis_client) == 0


@pytest.mark.parametrize("group_commit", [True, False])
async def test_consumer_killed_mid_batch_leaves_its_pending_events_to_another(
    sessions: Sessions,
    redis_client: redis.asyncio.Redis,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
    group_commit: bool,
) -> None:
    await emit(sessions, [("A", n) for n in range(20)])
    await publish_all(sessions, redis_client)
    await consumer(redis_client, sessions, "b").ensure_groups()
    marker = tmp_path / "hanging"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HARNESS), "consumer-hang", database_url, redis_url, GROUP, "a",
        "5", str(marker), "1" if group_commit else "0",
    )  # fmt: skip
    try:
        await wait_for_file(marker, proc)  # read all 20 as one batch, hanging in the 5th
    finally:
        proc.kill()
        await proc.wait()
    # One transaction per batch: none committed. One per event: 4 committed. The
    # batch is acknowledged at its end, so all 20 stay pending on the dead consumer.
    done_by_a = 0 if group_commit else 4
    assert len(await applied_rows(sessions)) == done_by_a
    summary = await redis_client.xpending(STREAM_INVENTORY, GROUP)
    assert [(c["name"], c["pending"]) for c in summary["consumers"]] == [(b"a", 20)]
    b = consumer(redis_client, sessions, "b", claim_idle_ms=50)

    async def all_applied() -> bool:
        await b.poll_once(block_ms=0)
        return len(await applied_rows(sessions)) >= 20

    await eventually(all_applied)
    rows = await applied_rows(sessions)
    assert [r[2] for r in rows] == list(range(1, 21))  # each once, in order
    assert [r[3] for r in rows] == ["a"] * done_by_a + ["b"] * (20 - done_by_a)
    assert await pending_count(redis_client) == 0


async def test_consumer_span_links_to_the_trace_of_the_change(
    sessions: Sessions, redis_client: redis.asyncio.Redis, otlp_receiver: OtlpReceiver
) -> None:
    def provider(service: str) -> TracerProvider:
        p = TracerProvider(resource=Resource.create({"service.name": service}))
        exporter = OTLPSpanExporter(endpoint=otlp_receiver.endpoint, insecure=True)
        p.add_span_processor(SimpleSpanProcessor(exporter))
        return p

    producer, consumer_provider = provider("inventory"), provider("channel-sync")
    with producer.get_tracer("t").start_as_current_span("adjust stock") as change:
        await emit(sessions, [("A", 7)])
    await publish_all(sessions, redis_client)
    c1 = EventConsumer(
        redis_client,
        sessions,
        CONSUMER,
        group=GROUP,
        name="c1",
        streams=[STREAM_INVENTORY],
        handlers={"AvailabilityChanged": recorder("c1")},
        tracer_provider=consumer_provider,
    )
    await drain(c1)
    producer.shutdown()
    consumer_provider.shutdown()
    ctx = change.get_span_context()
    (span,) = await otlp_receiver.wait_for_async(lambda s: s.name == "process oms.inventory")
    assert span.service == "channel-sync" and span.kind == "SPAN_KIND_CONSUMER"
    assert (format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")) in span.links
    assert span.attributes["messaging.destination.name"] == "oms.inventory"
    (producer_span,) = await otlp_receiver.wait_for_async(lambda s: s.name == "adjust stock")
    assert producer_span.service == "inventory"
