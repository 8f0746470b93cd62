"""Channel stock sync in the running service: configured from the environment, pushed over HTTP."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from oms_inventory import bootstrap
from oms_inventory.config import Settings
from omslib.settings import load_settings
from omslib.testing.fake_channel import FakeChannel
from omslib.testing.polling import eventually


@pytest.fixture
async def channel() -> AsyncIterator[FakeChannel]:
    fake = FakeChannel()
    await fake.start()
    yield fake
    await fake.stop()


async def test_a_burst_of_reservations_reaches_the_channels_exact_and_coalesced(
    settings_for: Callable[..., Settings],
    make_database_url: Callable[[str], str],
    redis_url: str,
    channel: FakeChannel,
    kit_for: Any,
) -> None:
    settings = settings_for(
        make_database_url("inventory"),
        OMS_REDIS_URL=redis_url,
        OMS_INVENTORY_CHANNEL_SYNC_URLS=json.dumps(
            {"shop": f"{channel.base}/stock", "mall": f"{channel.base}/stock"}
        ),
        OMS_INVENTORY_CHANNEL_SAFETY_BUFFER='{"shop": 5, "mall": 2}',
        OMS_INVENTORY_CHANNEL_ALLOCATION='{"mall": {"default": 30, "skus": {"SOCKS": 4}}}',
    )
    running = await bootstrap.start(settings)
    try:
        async with kit_for(running) as kit:
            await kit.warehouse("HZ1")
            level = {"TEE": 100, "CAP": 40, "SOCKS": 12}
            for sku, on_hand in level.items():
                await kit.set_stock(sku, "HZ1", on_hand)
            channel.fail_next = 2  # the channel stumbles: pushes are retried
            rng, changes = random.Random(7), len(level)
            for n in range(60):  # a flash sale
                sku = rng.choice(sorted(level))
                if level[sku] == 0:
                    continue
                quantity = min(level[sku], rng.choice([1, 1, 2, 3]))
                await kit.try_reserve(f"g{n}", [(sku, quantity)])
                level[sku] -= quantity
                changes += 1
                if n % 4 == 0:
                    await kit.cancel(f"g{n}")
                    level[sku] += quantity
                    changes += 1

        caps = {"SOCKS": 4}
        expected = {
            "shop": {sku: max(0, a - 5) for sku, a in level.items()},
            "mall": {sku: max(0, min(a - 2, caps.get(sku, 30))) for sku, a in level.items()},
        }
        await eventually(lambda: channel.stock == expected)
        assert len(channel.requests) < changes  # coalesced
        sync = running.inventory.channel_sync
        assert sync is not None and sync.sync.failed_pushes == 2
    finally:
        await running.stop()


async def test_a_restart_starts_from_the_stock_in_the_database(
    settings_for: Callable[..., Settings],
    make_database_url: Callable[[str], str],
    redis_url: str,
    channel: FakeChannel,
    kit_for: Any,
) -> None:
    database_url = make_database_url("inventory")
    plain = settings_for(
        database_url,
        OMS_REDIS_URL=redis_url,
    )
    running = await bootstrap.start(plain)
    try:
        assert running.inventory.channel_sync is None  # no channel configured: no sync
        async with kit_for(running) as kit:
            await kit.warehouse("HZ1")
            await kit.set_stock("TEE", "HZ1", 9)
    finally:
        await running.stop()
    await _flush(redis_url)  # the events are gone: only the database knows

    channels = {
        "channel_sync_urls": {"shop": f"{channel.base}/s"},
        "channel_safety_buffer": {"shop": 1},
    }
    synced = plain.model_copy(update=channels)
    running = await bootstrap.start(synced)
    try:
        await eventually(lambda: channel.stock == {"shop": {"TEE": 8}})
    finally:
        await running.stop()


async def test_one_replica_syncs_and_another_takes_over_when_it_stops(
    settings_for: Callable[..., Settings],
    make_database_url: Callable[[str], str],
    redis_url: str,
    channel: FakeChannel,
    kit_for: Any,
) -> None:
    settings = settings_for(
        make_database_url("inventory"),
        OMS_REDIS_URL=redis_url,
        OMS_INVENTORY_CHANNEL_SYNC_URLS=json.dumps({"shop": f"{channel.base}/stock"}),
        OMS_INVENTORY_CHANNEL_SYNC_LEASE_SECONDS=1,
    )
    first = await bootstrap.start(settings)
    second = await bootstrap.start(settings)  # a second replica on the same database
    replicas = [first, second]
    try:
        syncs = [r.inventory.channel_sync for r in replicas]
        assert syncs[0] is not None and syncs[1] is not None
        await eventually(lambda: sum(s.active for s in syncs) == 1)  # type: ignore[union-attr]
        leader = next(r for r, s in zip(replicas, syncs, strict=True) if s.active)  # type: ignore[union-attr]
        follower = second if leader is first else first
        async with kit_for(follower) as kit:  # changes through either replica reach the channel
            await kit.warehouse("HZ1")
            await kit.set_stock("TEE", "HZ1", 10)
        await eventually(lambda: channel.stock == {"shop": {"TEE": 10}})
        assert sum(s.active for s in syncs) == 1  # type: ignore[union-attr]

        pushed_before = len(channel.requests)
        await leader.stop()
        replicas.remove(leader)

        survivor = follower.inventory.channel_sync
        assert survivor is not None
        await eventually(lambda: survivor.active)
        await eventually(lambda: any(r["full"] for r in channel.requests[pushed_before:]))
        async with kit_for(follower) as kit:
            await kit.try_reserve("g1", [("TEE", 3)])
        await eventually(lambda: channel.stock == {"shop": {"TEE": 7}})
    finally:
        for running in replicas:
            await running.stop()


async def _flush(redis_url: str) -> None:
    from omslib.redis_conn import connect

    client = connect(redis_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"OMS_INVENTORY_CHANNEL_SYNC_URLS": "taobao"},
            "OMS_INVENTORY_CHANNEL_SYNC_URLS='taobao'",
        ),
        (
            # The old NAME=VALUE form is refused with the JSON form to write instead.
            {"OMS_INVENTORY_CHANNEL_SYNC_URLS": "taobao=http://x/stock"},
            'write it as JSON, e.g. {"taobao": "http://host/stock"',
        ),
        (
            {"OMS_INVENTORY_CHANNEL_SYNC_URLS": '{"taobao": "ftp://x"}'},
            "OMS_INVENTORY_CHANNEL_SYNC_URLS[taobao]='ftp://x': Value error, must be an "
            "http:// or https:// URL",
        ),
        (
            {"OMS_INVENTORY_CHANNEL_SYNC_URLS": '{"taobao": "http://a/s", "taobao": "http://b/s"}'},
            "'taobao' is named twice",
        ),
        (
            {"OMS_INVENTORY_CHANNEL_SYNC_URLS": '{"TaoBao": "http://x/stock"}'},
            "OMS_INVENTORY_CHANNEL_SYNC_URLS[TaoBao]='TaoBao': String should match pattern",
        ),
        (
            {
                "OMS_INVENTORY_CHANNEL_SYNC_URLS": '{"taobao": "http://x/stock"}',
                "OMS_INVENTORY_CHANNEL_SAFETY_BUFFER": '{"jd": 2}',
            },
            """OMS_INVENTORY_CHANNEL_SAFETY_BUFFER='{"jd": 2}': Value error, channel(s) jd """
            "have no URL",
        ),
        (
            {
                "OMS_INVENTORY_CHANNEL_SYNC_URLS": '{"taobao": "http://x/stock"}',
                "OMS_INVENTORY_CHANNEL_ALLOCATION": '{"taobao": {"skus": {"SKU-1": "many"}}}',
            },
            "OMS_INVENTORY_CHANNEL_ALLOCATION[taobao][skus][SKU-1]='many': Input should be a "
            "valid integer",
        ),
        (
            {"OMS_INVENTORY_CHANNEL_SYNC_FULL_REFRESH_SECONDS": "600"},
            "OMS_INVENTORY_CHANNEL_SYNC_FULL_REFRESH_SECONDS='600'",
        ),
    ],
)
def test_bad_channel_settings_stop_the_start_with_a_clear_message(
    env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        load_settings(Settings)
    assert message in str(exited.value)


def test_channel_settings_become_one_policy_per_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "OMS_INVENTORY_CHANNEL_SYNC_URLS", '{"taobao": "http://a/s", "jd": "https://b/s"}'
    )
    monkeypatch.setenv("OMS_INVENTORY_CHANNEL_SAFETY_BUFFER", '{"taobao": 2}')
    monkeypatch.setenv(
        "OMS_INVENTORY_CHANNEL_ALLOCATION", '{"jd": {"default": 100, "skus": {"SKU-1": 5}}}'
    )
    settings = load_settings(Settings)
    assert settings.channel_urls() == {"taobao": "http://a/s", "jd": "https://b/s"}
    taobao, jd = settings.channel_policies()
    assert (taobao.channel, taobao.safety_buffer, taobao.allocation) == ("taobao", 2, None)
    assert (jd.safety_buffer, jd.allocation, dict(jd.allocations)) == (0, 100, {"SKU-1": 5})
    assert jd.shown("SKU-1", 50) == 5 and jd.shown("SKU-2", 500) == 100
