"""Peak protection: a per-platform token bucket in Redis; 429 + Retry-After over the limit;
fails open (pushes still accepted) when Redis is down."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio
from oms_gateway.adapters.rate_limit import RedisRateLimiter
from oms_gateway.config_operations import RateLimit
from omslib.clock import FakeClock
from omslib.testing.net import free_port

Kit = Any


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_bucket_allows_the_burst_then_refuses_until_tokens_refill(
    redis_client: redis.asyncio.Redis,
) -> None:
    clock = FakeClock()
    limits = {"shop": RateLimit(rate=2, burst=3)}
    limiter = RedisRateLimiter(redis_client, limits.get, clock)
    assert [(await limiter.acquire("shop")).allowed for _ in range(4)] == [True, True, True, False]
    refused = await limiter.acquire("shop")
    assert (refused.allowed, refused.retry_after_seconds) == (False, 1)
    assert (await limiter.acquire("douyin")).allowed  # no limit configured for it
    clock.advance(timedelta(milliseconds=500))  # one token back at 2/s
    assert [(await limiter.acquire("shop")).allowed for _ in range(2)] == [True, False]
    clock.advance(timedelta(seconds=10))  # refills to the burst, not beyond
    assert [(await limiter.acquire("shop")).allowed for _ in range(4)] == [True, True, True, False]


async def test_buckets_are_shared_by_replicas(redis_client: redis.asyncio.Redis) -> None:
    clock = FakeClock()
    limits = {"shop": RateLimit(rate=1, burst=2)}
    one = RedisRateLimiter(redis_client, limits.get, clock)
    two = RedisRateLimiter(redis_client, limits.get, clock)
    assert (await one.acquire("shop")).allowed and (await two.acquire("shop")).allowed
    assert not (await one.acquire("shop")).allowed
    assert not (await two.acquire("shop")).allowed


async def test_over_the_limit_is_429_with_retry_after_and_not_stored(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit, redis_url: str
) -> None:
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        shop_secret,
        OMS_REDIS_URL=redis_url,
        OMS_GATEWAY_RATE_LIMITS='{"shop": "0.001:2"}',  # one token per 1000 s after the burst
    )
    statuses = []
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        for n in range(3):
            body, headers = kit.signed_push(shop_secret, kit.order_body(f"R{n}"), msg_id=f"m{n}")
            response = await http.post("/webhooks/shop", content=body, headers=headers)
            statuses.append(response.status_code)
    assert statuses == [202, 202, 429]
    assert response.json()["error"]["reason"] == "RATE_LIMITED"
    assert int(response.headers["retry-after"]) >= 1
    assert len(await kit.inbox_rows(running)) == 2


async def test_redis_down_fails_open_and_logs(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        shop_secret,
        OMS_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        OMS_GATEWAY_RATE_LIMITS='{"shop": "0.001:1"}',
    )
    caplog.set_level(logging.WARNING, logger="oms_gateway.adapters.rate_limit")
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        for n in range(3):
            body, headers = kit.signed_push(shop_secret, kit.order_body(f"F{n}"), msg_id=f"f{n}")
            response = await http.post("/webhooks/shop", content=body, headers=headers)
            assert response.status_code == 202, response.text
    assert any(getattr(r, "code", "") == "RATE_LIMIT_FAIL_OPEN" for r in caplog.records)


async def test_a_burst_waits_in_the_inbox_with_bounded_delivery_concurrency(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit
) -> None:
    service, recorder = orders
    recorder.delay = 0.2  # a slow orders: deliveries overlap if they can
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, OMS_GATEWAY_DELIVERY_CONCURRENCY=2
    )
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        for n in range(12):
            body, headers = kit.signed_push(shop_secret, kit.order_body(f"B{n}"), msg_id=f"b{n}")
            assert (await http.post("/webhooks/shop", content=body, headers=headers)).is_success
    in_flight: list[int] = []

    async def all_delivered() -> bool:
        states = [row.state for row in await kit.inbox_rows(running)]
        in_flight.append(states.count("DELIVERING"))
        return states == ["DELIVERED"] * 12

    await kit.eventually(all_delivered, what="the burst to be delivered")
    assert max(in_flight) <= 2
    assert len(recorder.calls) == 12
