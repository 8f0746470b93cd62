"""Feed-silence alerts: a platform that was active and then stays silent past what its own
rhythm at this time of day allows (never less than the three-minute floor) raises
PLATFORM_FEED_SILENT once (row, ERROR log, webhook POST with retries). Time is a
FakeClock and the webhook's back-off sleep is injected: nothing here sleeps."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from oms_gateway.adapters.orm import alerts
from oms_gateway.adapters.repository import InboxRepository
from oms_gateway.adapters.unit_of_work import GatewayUnitOfWork
from oms_gateway.bootstrap import MIGRATIONS
from oms_gateway.domain.inbox import InboxEntry
from oms_gateway.service_layer.alert_webhook import AlertWebhook
from oms_gateway.service_layer.feed_monitor import FeedMonitor
from omslib.clock import FakeClock
from omslib.db import create_engine, session_factory, upgrade_schema
from omslib.ids import new_id
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class AlertReceiver:
    """A real HTTP server taking alert POSTs; answers 500 to the first ``fail_first``."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                payload = json.loads(self.rfile.read(length))
                receiver.received.append(payload)
                failing = len(receiver.received) <= receiver.fail_first
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"


@pytest.fixture
def receiver() -> Iterator[AlertReceiver]:
    fake = AlertReceiver(fail_first=2)
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade_schema(engine, MIGRATIONS)
    yield engine
    await engine.dispose()


class Setup:
    def __init__(self, engine: AsyncEngine, webhook: AlertWebhook | None) -> None:
        sessions = session_factory(engine)
        self.uow = lambda: GatewayUnitOfWork(sessions)
        self.engine = engine
        self.clock = FakeClock(T0)
        self.monitor = FeedMonitor(
            self.uow,
            self.clock,
            lambda: ["shop", "douyin"],
            silence=timedelta(minutes=3),
            webhook=webhook,
        )

    async def push(self, platform: str) -> None:
        await self.pushes_at(platform, [self.clock.now()])

    async def pushes_at(self, platform: str, times: list[datetime]) -> None:
        uow = self.uow()
        async with uow:
            for when in times:
                entry = InboxEntry(new_id(), platform, new_id(), when, b"{}", {}, None, when)
                await InboxRepository(uow.session).add_if_absent(entry)
            await uow.commit()

    async def busy(self, platform: str, *, every: timedelta, over: timedelta) -> None:
        """A feed that pushed every ``every`` for the last ``over``, the last one now."""
        now, count = self.clock.now(), int(over / every)
        await self.pushes_at(platform, [now - every * n for n in range(count, -1, -1)])

    async def alert_rows(self) -> list[Any]:
        async with self.engine.connect() as conn:
            return list(await conn.execute(select(alerts).order_by(alerts.c.raised_at)))


async def no_sleep_recorder(delays: list[float]) -> Any:
    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    return sleep


async def test_silence_past_the_threshold_raises_one_alert_with_log_and_webhook(
    engine: AsyncEngine, receiver: AlertReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    delays: list[float] = []
    webhook = AlertWebhook(receiver.url, sleep=await no_sleep_recorder(delays))
    setup = Setup(engine, webhook)
    caplog.set_level(logging.ERROR, logger="oms_gateway.service_layer.feed_monitor")

    assert await setup.monitor.check() == []  # nothing was ever active: no alert
    await setup.busy("shop", every=timedelta(seconds=10), over=timedelta(minutes=10))
    setup.clock.advance(timedelta(minutes=3))
    assert await setup.monitor.check() == []  # exactly at the threshold: not yet
    setup.clock.advance(timedelta(seconds=1))
    (alert,) = await setup.monitor.check()

    assert (alert.code, alert.subject) == ("PLATFORM_FEED_SILENT", "shop")
    (row,) = await setup.alert_rows()
    assert (row.code, row.subject) == ("PLATFORM_FEED_SILENT", "shop")
    assert row.webhook_delivered_at is not None
    (record,) = [r for r in caplog.records if getattr(r, "code", "") == "PLATFORM_FEED_SILENT"]
    assert record.levelno == logging.ERROR and "shop" in record.getMessage()
    assert len(receiver.received) == 3 and delays == [1.0, 2.0]  # two failures, then 204
    assert receiver.received[-1]["code"] == "PLATFORM_FEED_SILENT"
    assert receiver.received[-1]["platform"] == "shop"
    assert receiver.received[-1]["silent_for_seconds"] == 181

    setup.clock.advance(timedelta(minutes=10))
    assert await setup.monitor.check() == []  # the same silence is not raised again
    assert len(await setup.alert_rows()) == 1

    await setup.push("shop")  # the feed comes back ...
    assert await setup.monitor.check() == []
    setup.clock.advance(timedelta(minutes=4))  # ... and goes silent again: a new alert
    assert [a.subject for a in await setup.monitor.check()] == ["shop"]
    assert len(await setup.alert_rows()) == 2


async def test_two_replicas_raise_the_alert_once(engine: AsyncEngine) -> None:
    one, two = Setup(engine, None), Setup(engine, None)
    await one.busy("douyin", every=timedelta(seconds=10), over=timedelta(minutes=10))
    for setup in (one, two):
        setup.clock.advance(timedelta(minutes=5))
    raised = [*await one.monitor.check(), *await two.monitor.check()]
    assert [a.subject for a in raised] == ["douyin"]


async def test_alert_is_kept_when_the_webhook_stays_down(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    delays: list[float] = []
    webhook = AlertWebhook("http://127.0.0.1:1/alerts", sleep=await no_sleep_recorder(delays))
    setup = Setup(engine, webhook)
    await setup.busy("shop", every=timedelta(seconds=10), over=timedelta(minutes=10))
    setup.clock.advance(timedelta(minutes=4))
    assert len(await setup.monitor.check()) == 1
    (row,) = await setup.alert_rows()
    assert row.webhook_delivered_at is None
    assert delays == [1.0, 2.0, 4.0, 8.0]
    assert any(getattr(r, "code", "") == "ALERT_WEBHOOK_FAILED" for r in caplog.records)


async def test_a_few_sample_pushes_are_no_rhythm_to_miss(engine: AsyncEngine) -> None:
    setup = Setup(engine, None)
    await setup.push("shop")  # a developer's sample pushes
    setup.clock.advance(timedelta(seconds=30))
    await setup.push("shop")
    for later in (timedelta(minutes=3, seconds=1), timedelta(hours=1), timedelta(days=1)):
        setup.clock.advance(later)
        assert await setup.monitor.check() == []


async def test_a_feed_quiet_at_this_time_of_day_is_judged_by_its_own_rhythm(
    engine: AsyncEngine,
) -> None:
    setup = Setup(engine, None)
    # Twice an hour, every day of the last week (a night-time rhythm).
    await setup.busy("douyin", every=timedelta(minutes=30), over=timedelta(days=7))
    setup.clock.advance(timedelta(minutes=3, seconds=1))
    assert await setup.monitor.check() == []  # three minutes is nothing for this feed
    setup.clock.advance(timedelta(hours=2))
    assert await setup.monitor.check() == []  # four usual gaps: still within its rhythm
    setup.clock.advance(timedelta(hours=1))
    (alert,) = await setup.monitor.check()  # six usual gaps: abnormal
    assert alert.subject == "douyin"
    assert 1700 < int(alert.details["usual_gap_seconds"]) < 2000  # about 30 minutes
    assert "usually pushes every" in alert.message


async def test_a_busy_feed_is_silent_after_the_three_minute_floor(engine: AsyncEngine) -> None:
    setup = Setup(engine, None)
    await setup.busy("shop", every=timedelta(seconds=1.2), over=timedelta(minutes=10))  # 50/min
    setup.clock.advance(timedelta(minutes=3))
    assert await setup.monitor.check() == []
    setup.clock.advance(timedelta(seconds=1))
    (alert,) = await setup.monitor.check()
    assert alert.details["threshold_seconds"] == 180
