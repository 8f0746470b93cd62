import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import httpx
import pytest
from oms_inventory.channel_sync.policy import ChannelPolicy
from oms_inventory.channel_sync.pusher import HttpJsonPusher, StockUpdate
from oms_inventory.channel_sync.sync import ChannelStockSync, PushFailure, SyncSettings
from omslib.clock import FakeClock
from omslib.events import ConsumerSettings, EventConsumer
from omslib.outbox import STREAM_INVENTORY, OutboxRelay, RelaySettings
from omslib.redis_conn import connect
from omslib.testing.events_harness import CONSUMER, OUTBOX, emit, open_db
from omslib.testing.fake_channel import FakeChannel
from omslib.testing.polling import eventually


@pytest.mark.parametrize(
    ("policy", "available", "shown"),
    [
        (ChannelPolicy("c", safety_buffer=5), 12, 7),
        (ChannelPolicy("c", safety_buffer=5), 3, 0),
        (ChannelPolicy("c", safety_buffer=2, allocation=10), 50, 10),
        (ChannelPolicy("c", safety_buffer=2, allocation=10), 8, 6),
        (ChannelPolicy("c", allocation=10, allocations={"S": 4}), 50, 4),
        (ChannelPolicy("c", safety_buffer=1, allocation=0), 50, 0),
    ],
)
def test_shown_stock_is_available_minus_buffer_capped_and_never_negative(
    policy: ChannelPolicy, available: int, shown: int
) -> None:
    assert policy.shown("S", available) == shown


class RecordingPusher:
    def __init__(self) -> None:
        self.pushes: list[tuple[str, dict[str, int], bool]] = []
        self.fail = 0

    async def push(self, channel: str, updates: Sequence[StockUpdate], *, full: bool) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("channel down")
        self.pushes.append((channel, {u.sku: u.quantity for u in updates}, full))


async def test_changes_are_coalesced_into_one_push_after_the_window() -> None:
    clock, pusher = FakeClock(), RecordingPusher()
    sync = ChannelStockSync([ChannelPolicy("shop", safety_buffer=2)], pusher, clock=clock)
    for n in range(100):
        sync.apply("S", 200 - n)
    await sync.step()
    assert pusher.pushes == []
    clock.advance(sync.settings.coalesce)
    await sync.step()
    await sync.step()
    assert pusher.pushes == [("shop", {"S": 99}, False)]


async def test_full_refresh_pushes_every_known_sku_and_never_an_empty_list() -> None:
    clock, pusher = FakeClock(), RecordingPusher()
    sync = ChannelStockSync([ChannelPolicy("shop", safety_buffer=1)], pusher, clock=clock)
    await sync.step()
    clock.advance(timedelta(minutes=5))
    await sync.step()
    assert pusher.pushes == []
    sync.apply("A", 3)
    sync.apply("B", 9)
    clock.advance(timedelta(seconds=1))
    await sync.step()
    clock.advance(timedelta(minutes=5))
    await sync.step()
    assert pusher.pushes[-1] == ("shop", {"A": 2, "B": 8}, True)
    assert sync.full_pushes == 1


async def test_a_requested_full_refresh_pushes_the_snapshot_at_once() -> None:
    clock, pusher = FakeClock(), RecordingPusher()

    async def truth() -> dict[str, int]:
        return {"A": 4, "B": 0}

    sync = ChannelStockSync(
        [ChannelPolicy("shop", safety_buffer=1)], pusher, clock=clock, snapshot=truth
    )
    sync.request_full_refresh()
    await sync.step()  # no coalescing window, no five-minute wait
    assert pusher.pushes == [("shop", {"A": 3, "B": 0}, True)]
    await sync.step()
    assert len(pusher.pushes) == 1


async def test_stale_events_are_ignored() -> None:
    clock, pusher = FakeClock(), RecordingPusher()
    sync = ChannelStockSync([ChannelPolicy("shop")], pusher, clock=clock)
    assert sync.apply("S", 5, version=("sku", "S", 2))
    assert not sync.apply("S", 9, version=("sku", "S", 1))
    assert sync.available == {"S": 5}


async def test_failed_push_is_reported_and_retried_with_the_latest_value() -> None:
    clock, pusher, failures = FakeClock(), RecordingPusher(), []
    sync = ChannelStockSync(
        [ChannelPolicy("shop")], pusher, clock=clock, on_failure=failures.append
    )
    pusher.fail = 2
    sync.apply("S", 5)
    clock.advance(timedelta(seconds=1))
    await sync.step()
    sync.apply("S", 4)
    clock.advance(timedelta(seconds=1))
    await sync.step()
    assert [(f.channel, f.attempts) for f in failures] == [("shop", 1), ("shop", 2)]
    await sync.step()  # the retry waits for its backoff
    assert pusher.pushes == []
    clock.advance(timedelta(seconds=2))
    await sync.step()
    assert pusher.pushes == [("shop", {"S": 4}, False)]


@pytest.fixture
async def channel() -> AsyncIterator[FakeChannel]:
    fake = FakeChannel()
    await fake.start()
    yield fake
    await fake.stop()


async def test_a_burst_reaches_the_channel_coalesced_exact_and_fully_refreshed(
    database_url: str, redis_url: str, channel: FakeChannel
) -> None:
    engine, sessions = await open_db(database_url)
    client = connect(redis_url)
    base = channel.base
    http = httpx.AsyncClient()
    clock, failures = FakeClock(), list[PushFailure]()
    policies = [
        ChannelPolicy("shop", safety_buffer=5),
        ChannelPolicy("mall", safety_buffer=2, allocation=30),
    ]
    sync = ChannelStockSync(
        policies,
        HttpJsonPusher(http, {"shop": f"{base}/stock", "mall": f"{base}/stock"}),
        clock=clock,
        settings=SyncSettings(tick=0.01),
        on_failure=failures.append,
    )
    relay = OutboxRelay(sessions, OUTBOX, client, settings=RelaySettings(sweep_interval=0.05))
    consumer = EventConsumer(
        client,
        sessions,
        CONSUMER,
        group="channel-sync",
        name="c1",
        streams=[STREAM_INVENTORY],
        handlers={"AvailabilityChanged": sync.handle_event},
        settings=ConsumerSettings(block_ms=50),
    )
    tasks = [asyncio.create_task(t) for t in (relay.run(), consumer.run(), sync.run())]
    try:
        rng = random.Random(5)
        level = {"X": 100, "Y": 40, "Z": 8}
        changes = []
        for _ in range(300):  # a flash sale: many small steps
            sku = rng.choice(sorted(level))
            level[sku] = max(0, level[sku] + rng.choice([-3, -2, -1, 1]))
            changes.append((sku, level[sku]))
        channel.fail_next = 2
        for start in range(0, len(changes), 50):
            await emit(sessions, changes[start : start + 50], relay.notifier)
            clock.advance(timedelta(seconds=2))
        await eventually(lambda: sync.available == level)
        expected = {
            "shop": {sku: max(0, a - 5) for sku, a in level.items()},
            "mall": {sku: max(0, min(a - 2, 30)) for sku, a in level.items()},
        }
        await eventually(
            lambda: channel.stock == expected, between=lambda: clock.advance(timedelta(seconds=1))
        )
        assert channel.stock == expected
        assert len(failures) == 2 and sync.failed_pushes == 2
        assert len(channel.requests) * 10 < len(changes)  # coalesced
        channel.requests.clear()
        clock.advance(timedelta(minutes=5))
        await eventually(lambda: len(channel.requests) >= 2)
        full = {r["channel"]: r for r in channel.requests}
        assert all(r["full"] for r in channel.requests)
        for name, shown in expected.items():
            assert {i["sku"]: i["quantity"] for i in full[name]["items"]} == shown
    finally:
        relay.stop()
        consumer.stop()
        tasks[2].cancel()  # the sync holds no connections
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks)
        await http.aclose()
        await client.aclose()
        await engine.dispose()
