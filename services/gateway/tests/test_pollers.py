"""Pollers: orders fetched from a channel that cannot push (a real local HTTP server
playing the channel) go into the inbox, deduplicated, behind a durable cursor."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from oms_gateway.adapters.cursor_repository import CursorRepository
from oms_gateway.bootstrap import MIGRATIONS
from oms_gateway.config import Settings
from oms_gateway.config_operations import PollChannelConfig
from oms_gateway.pollers.http_json import HttpJsonPoller
from oms_gateway.pollers.runner import PollRunner
from oms_gateway.service_layer.intake import IntakeService
from omslib.clock import FakeClock
from omslib.db import UnitOfWork, create_engine, session_factory, upgrade_schema
from omslib.settings import load_settings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

Kit = Any
T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


def channel_order(order_id: str, updated: datetime, status: str = "pending") -> dict[str, Any]:
    return {
        "id": order_id,
        "status": status,
        "created_at": T0.isoformat(),
        "updated_at": updated.isoformat(),
        "currency": "CNY",
        "total": 1000,
        "buyer": {"id": "b1", "name": "Buyer"},
        "shipping_address": {"province": "Zhejiang", "city": "Hangzhou", "line1": "1 Road"},
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": 1000}],
    }


class FakeChannel:
    """GET /orders?modified_since=...&limit=... over real HTTP; records each query."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.queries: list[dict[str, list[str]]] = []
        self.ignore_cursor = False
        channel = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                channel.queries.append(query)
                since = query.get("modified_since", [""])[0]
                limit = int(query.get("limit", ["100"])[0])
                found = sorted(channel.orders.values(), key=lambda o: o["updated_at"])
                if since and not channel.ignore_cursor:
                    found = [o for o in found if o["updated_at"] > since]
                page = found[:limit]
                body = json.dumps({"orders": page, "has_more": len(found) > limit}).encode()
                self.send_response(200 if url.path == "/api/orders" else 404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"

    def put(self, order: dict[str, Any]) -> None:
        self.orders[order["id"]] = order


@pytest.fixture
def channel() -> Iterator[FakeChannel]:
    fake = FakeChannel()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade_schema(engine, MIGRATIONS)
    yield engine
    await engine.dispose()


def runner_for(engine: AsyncEngine, channel: FakeChannel, page_size: int = 100) -> PollRunner:
    sessions = session_factory(engine)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions)

    config = PollChannelConfig(name="erp", platform="shop", url=channel.url, page_size=page_size)
    clock = FakeClock(T0)
    return PollRunner([HttpJsonPoller(config)], IntakeService(uow, clock), uow, clock)


async def stored_events(engine: AsyncEngine) -> list[str]:
    from oms_gateway.adapters.orm import inbox

    async with engine.connect() as conn:
        rows = await conn.execute(select(inbox.c.platform, inbox.c.event_id).order_by(inbox.c.id))
        return sorted(f"{platform}/{event}" for platform, event in rows)


async def test_polled_orders_enter_the_inbox_once_behind_a_durable_cursor(
    engine: AsyncEngine, channel: FakeChannel
) -> None:
    t1, t2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    channel.put(channel_order("O1", t1))
    channel.put(channel_order("O2", t2))
    runner = runner_for(engine, channel, page_size=1)  # two pages
    (poller,) = runner._pollers
    assert await runner.poll_once(poller) == 2
    assert "modified_since" not in channel.queries[0]
    assert await stored_events(engine) == [
        f"erp/O1@{t1.isoformat()}",
        f"erp/O2@{t2.isoformat()}",
    ]

    t3 = T0 + timedelta(minutes=3)
    channel.put(channel_order("O1", t3, status="paid"))  # modified again: a new snapshot
    restarted = runner_for(engine, channel)  # a new process reads the stored cursor
    assert await restarted.poll_once(restarted._pollers[0]) == 1
    assert channel.queries[-1]["modified_since"] == [t2.isoformat()]
    assert f"erp/O1@{t3.isoformat()}" in await stored_events(engine)

    channel.ignore_cursor = True  # a channel that sends everything again
    assert await restarted.poll_once(restarted._pollers[0]) == 0
    assert len(await stored_events(engine)) == 3
    for runner_ in (runner, restarted):
        await runner_.stop()


async def test_a_channel_held_by_another_replica_is_not_polled(
    engine: AsyncEngine, channel: FakeChannel
) -> None:
    channel.put(channel_order("O1", T0))
    first, second = runner_for(engine, channel), runner_for(engine, channel)
    uow = UnitOfWork(session_factory(engine))
    async with uow:
        claimed, _ = await CursorRepository(uow.session).claim(
            "erp", first.owner, T0, T0 + timedelta(minutes=5)
        )
        await uow.commit()
    assert claimed
    assert await second.poll_once(second._pollers[0]) == 0
    assert channel.queries == []
    for runner_ in (first, second):
        await runner_.stop()


async def test_polled_orders_are_delivered_to_orders_by_the_gateway(
    make_gateway: Any, orders: Any, channel: FakeChannel, kit: Kit
) -> None:
    service, recorder = orders
    channel.put(channel_order("P1", T0))
    config = [{"name": "erp", "platform": "taobao", "url": channel.url, "interval_seconds": 0.2}]
    await make_gateway(
        f"127.0.0.1:{service.bound_port}", None, OMS_GATEWAY_POLL_CHANNELS=json.dumps(config)
    )

    async def delivered() -> bool:
        return len(recorder.calls) == 1

    await kit.eventually(delivered, what="the polled order to reach orders")
    (call,) = recorder.calls
    assert call.request_id == f"erp:P1@{T0.isoformat()}"
    assert call.snapshot.platform_order_id == "P1"
    assert call.snapshot.platform == 1  # PLATFORM_TAOBAO


@pytest.mark.parametrize("interval", ["0", "301", "-5"])
def test_poll_interval_must_be_positive_and_at_most_five_minutes(interval: str) -> None:
    config = [{"name": "erp", "platform": "shop", "url": "http://x", "interval_seconds": interval}]
    with pytest.raises(SystemExit, match="OMS_GATEWAY_POLL_CHANNELS"):
        load_settings(Settings, OMS_GATEWAY_POLL_CHANNELS=json.dumps(config))
