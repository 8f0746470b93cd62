"""SLA timers are rows: two replicas on one database fire each level once; a replica that
was down fires what came due meanwhile, once. Uses FakeClock, never the wall clock."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from oms_aftersales.adapters import orm
from oms_aftersales.bootstrap import Running, start
from oms_aftersales.config import Settings
from oms_aftersales.domain.customers import CustomerIdentity
from oms_aftersales.domain.ticket import Channel, Escalation
from oms_aftersales.service_layer.commands import CustomerMessage
from omslib.clock import FakeClock

T0 = datetime(2026, 9, 15, 2, 0, tzinfo=UTC)  # Tuesday 10:00 Shanghai


class AlertReceiver:
    """A real HTTP server taking the alert webhook's POSTs."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"


@pytest.fixture
def receiver() -> Iterator[AlertReceiver]:
    fake = AlertReceiver()
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


async def _replica(
    url: str, redis_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Running:
    monkeypatch.setenv("OMS_AFTERSALES_PORT", "0")
    monkeypatch.setenv("OMS_AFTERSALES_HOST", "127.0.0.1")
    monkeypatch.setenv("OMS_AFTERSALES_DATABASE_URL", url)
    monkeypatch.setenv("OMS_REDIS_URL", redis_url)
    monkeypatch.setenv("OMS_AFTERSALES_TIMER_LEASE_SECONDS", "30")
    return await start(Settings(), clock=clock, jobs=False)


async def _open_ticket(running: Running) -> str:
    intake = await running.app.intake.record_message(
        CustomerMessage("m1", Channel.WECHAT, "m", CustomerIdentity(wechat_openid="o1"), "你好")
    )
    return intake.ticket.ticket_id


async def _fired(running: Running) -> list[tuple[str, str]]:
    async with running.app.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(orm.timers.c.kind, orm.timers.c.key)
            .where(orm.timers.c.fired_at.is_not(None))
            .order_by(orm.timers.c.id)
        )
        return [(r.kind, r.key) for r in rows]


async def _events(running: Running, event_type: str) -> int:
    async with running.app.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    sa.select(sa.func.count()).where(orm.outbox.outbox.c.event_type == event_type)
                )
            ).scalar_one()
        )


async def test_two_replicas_fire_warning_and_each_escalation_level_once(
    make_database_url: Callable[[str], str],
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    receiver: AlertReceiver,
) -> None:
    monkeypatch.setenv("OMS_ALERT_WEBHOOK_URL", receiver.url)
    url = make_database_url("aftersales")
    clock = FakeClock(T0)
    a = await _replica(url, redis_url, clock, monkeypatch)
    b = await _replica(url, redis_url, clock, monkeypatch)
    try:
        ticket_id = await _open_ticket(a)
        caplog.set_level(logging.WARNING)
        # GEN-001 NORMAL: first response due 12:00 Shanghai (2h working time).
        for step in (
            timedelta(hours=1, minutes=45),
            timedelta(minutes=20),
            timedelta(hours=1),
            timedelta(hours=3),
            timedelta(hours=3),
        ):
            clock.advance(step)
            # Both replicas try every round; only the lease holder fires.
            await a.app.timers.run_once()
            await b.app.timers.run_once()
            # The lease moves to the other replica when it lapses: still once.
            clock.advance(timedelta(seconds=31))
            await b.app.timers.run_once()
            await a.app.timers.run_once()

        fired = await _fired(a)
        escalations = [key for kind, key in fired if kind == "escalation"]
        assert escalations == ["escalation:agent", "escalation:supervisor", "escalation:manager"]
        warnings = [key for kind, key in fired if kind == "warning"]
        assert len(warnings) == len(set(warnings)) >= 1
        assert await _events(a, "TicketEscalated") == 3
        assert await _events(a, "Alert") == 3
        ticket = await a.app.tickets.get(ticket_id)
        assert ticket.ticket.escalation is Escalation.MANAGER
        assert sum(1 for r in caplog.records if getattr(r, "code", "") == "TICKET_ESCALATED") == 3
        assert [(a["level"], a["ticket"]) for a in receiver.received] == [
            (level, f"tickets/{ticket_id}") for level in ("AGENT", "SUPERVISOR", "MANAGER")
        ]
    finally:
        await a.stop()
        await b.stop()


async def test_a_timer_due_while_down_fires_once_after_restart(
    make_database_url: Callable[[str], str],
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = make_database_url("aftersales")
    clock = FakeClock(T0)
    first = await _replica(url, redis_url, clock, monkeypatch)
    await _open_ticket(first)
    await first.stop()

    clock.advance(timedelta(hours=2, minutes=30))  # first response breached while down
    again = await _replica(url, redis_url, clock, monkeypatch)
    try:
        assert await again.app.timers.run_once() >= 2  # the warning and the agent escalation
        assert await again.app.timers.run_once() == 0
        fired = await _fired(again)
        assert ("escalation", "escalation:agent") in fired
        assert await _events(again, "TicketEscalated") == 1
    finally:
        await again.stop()


async def test_reply_before_the_deadline_cancels_the_escalation(
    make_database_url: Callable[[str], str],
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(T0)
    running = await _replica(make_database_url("aftersales"), redis_url, clock, monkeypatch)
    try:
        ticket_id = await _open_ticket(running)
        clock.advance(timedelta(hours=1))
        await running.app.tickets.reply(ticket_id, "在的", "", "alice", False, "")
        await running.app.tickets.resolve(ticket_id, "alice", "answered")
        clock.advance(timedelta(days=3))
        assert await running.app.timers.run_once() == 0
        view = await running.app.tickets.get(ticket_id)
        assert view.ticket.escalation is Escalation.NONE
    finally:
        await running.stop()
