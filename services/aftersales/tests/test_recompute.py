"""A catalogue change (here a shorter first-response target) recomputes open tickets'
deadlines at start-up from their stored history, keeping their paused time."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from oms_aftersales.bootstrap import Running, start
from oms_aftersales.catalogue_file import DEFAULT_FILE
from oms_aftersales.config import Settings
from oms_aftersales.domain.customers import CustomerIdentity
from oms_aftersales.domain.ticket import Channel
from oms_aftersales.service_layer.commands import CustomerMessage
from omslib.clock import FakeClock

T0 = datetime(2026, 9, 15, 2, 0, tzinfo=UTC)  # Tuesday 10:00 Shanghai


async def _start(
    monkeypatch: pytest.MonkeyPatch, url: str, redis_url: str, clock: FakeClock
) -> Running:
    monkeypatch.setenv("OMS_AFTERSALES_PORT", "0")
    monkeypatch.setenv("OMS_AFTERSALES_HOST", "127.0.0.1")
    monkeypatch.setenv("OMS_AFTERSALES_DATABASE_URL", url)
    monkeypatch.setenv("OMS_REDIS_URL", redis_url)
    return await start(Settings(), clock=clock, jobs=False)


async def test_changed_targets_recompute_open_tickets_keeping_pauses(
    make_database_url: Callable[[str], str],
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url = make_database_url("aftersales")
    clock = FakeClock(T0)
    first = await _start(monkeypatch, url, redis_url, clock)
    tickets, intake = first.app.tickets, first.app.intake
    opened = await intake.record_message(
        CustomerMessage("m1", Channel.WECHAT, "m", CustomerIdentity(wechat_openid="o1"), "你好")
    )
    ticket_id = opened.ticket.ticket_id
    clock.advance(timedelta(minutes=10))
    await tickets.pause(ticket_id, "amy", "asked")
    clock.advance(timedelta(minutes=20))
    await intake.record_message(
        CustomerMessage("m2", Channel.WECHAT, "m", CustomerIdentity(wechat_openid="o1"), "好的")
    )
    await first.stop()

    doc = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    doc["issue_codes"]["GEN-001"]["deadlines"]["NORMAL"]["first_response_minutes"] = 30
    path = tmp_path / "codes.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setenv("OMS_AFTERSALES_ISSUE_CODES_FILE", str(path))
    again = await _start(monkeypatch, url, redis_url, clock)
    try:
        assert await again.app.tickets.recompute_open() == 1
        assert await again.app.tickets.recompute_open() == 0  # nothing moves twice

        view = await again.app.tickets.get(ticket_id)
        # 30 minutes of working time: 10 before the 20-minute pause, 20 after it.
        assert view.ticket.deadlines.first_response == T0 + timedelta(minutes=50)
        assert [a.action for a in view.audit][-1] == "sla_recomputed"
    finally:
        await again.stop()
