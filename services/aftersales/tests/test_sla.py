"""SLA arithmetic on business calendars, with injected times (no wall clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from oms_aftersales.catalogue_file import load_catalogue
from oms_aftersales.domain.calendar import BusinessCalendar, CalendarHasNoWorkingTime
from oms_aftersales.domain.issue_codes import Priority
from oms_aftersales.domain.sla import SlaHistory, SlaTargets, compute_deadlines
from oms_aftersales.domain.ticket import Channel, Mood, Ticket

SH = ZoneInfo("Asia/Shanghai")
OFFICE = BusinessCalendar(
    "office",
    "Asia/Shanghai",
    {d: ((time(9), time(12)), (time(13, 30), time(18))) for d in range(5)},
    frozenset({date(2026, 10, 1), date(2026, 10, 2)}),
)
TARGETS = SlaTargets(timedelta(hours=2), timedelta(hours=4), timedelta(hours=8))


def sh(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def test_lunch_break_is_not_working_time() -> None:
    # Tuesday 11:00 + 2h: one hour before lunch, one after 13:30.
    assert OFFICE.add(sh(2026, 9, 15, 11), timedelta(hours=2)) == sh(2026, 9, 15, 14, 30)


def test_weekend_is_skipped() -> None:
    # Friday 17:00 + 2h: one hour on Friday, then Monday 09:00 + 1h.
    assert OFFICE.add(sh(2026, 9, 18, 17), timedelta(hours=2)) == sh(2026, 9, 21, 10)


def test_holiday_is_skipped() -> None:
    # Wednesday 30 Sep 17:00 + 2h: Thu 1 and Fri 2 Oct are holidays, then the weekend.
    assert OFFICE.add(sh(2026, 9, 30, 17), timedelta(hours=2)) == sh(2026, 10, 5, 10)


def test_start_outside_hours_counts_from_next_opening() -> None:
    assert OFFICE.add(sh(2026, 9, 15, 20), timedelta(minutes=30)) == sh(2026, 9, 16, 9, 30)


def test_working_time_between_counts_only_hours() -> None:
    assert OFFICE.working_time(sh(2026, 9, 18, 17), sh(2026, 9, 21, 10)) == timedelta(hours=2)


def test_calendar_without_hours_is_refused_not_looped() -> None:
    with pytest.raises(CalendarHasNoWorkingTime):
        BusinessCalendar("empty", "Asia/Shanghai", {}).add(sh(2026, 9, 15, 9), timedelta(hours=1))


def _ticket(opened: datetime, priority: Priority = Priority.NORMAL) -> Ticket:
    return Ticket(
        ticket_id="T1",
        merchant_id="m",
        channel=Channel.WECHAT,
        customer_key="wechat:o1",
        order_id=None,
        description="?",
        issue_code="GEN-001",
        department="office",
        priority=priority,
        classified_by="default",
        intent="",
        mood=Mood.CALM,
        opened_at=opened.astimezone(UTC),
    )


def test_three_deadlines_are_visible_at_once() -> None:
    t = _ticket(sh(2026, 9, 15, 9))
    t.reply(sh(2026, 9, 15, 10).astimezone(UTC), "alice", wait_for_customer=False)
    t.customer_wrote(sh(2026, 9, 15, 11).astimezone(UTC), "customer")

    d = compute_deadlines(t.sla_history(), TARGETS, OFFICE)

    assert d.first_response is None  # met
    assert d.next_update == sh(2026, 9, 15, 16, 30)  # 11:00 + 4h around lunch
    assert d.resolution == sh(2026, 9, 16, 9, 30)  # 7.5h on the 15th, 0.5h on the 16th


def test_pause_stops_the_clock_and_keeps_the_interval() -> None:
    t = _ticket(sh(2026, 9, 15, 9))
    t.pause(sh(2026, 9, 15, 10).astimezone(UTC), "alice", "asked for photos")
    assert compute_deadlines(t.sla_history(), TARGETS, OFFICE).paused

    t.customer_wrote(sh(2026, 9, 15, 15).astimezone(UTC), "customer")
    d = compute_deadlines(t.sla_history(), TARGETS, OFFICE)

    # 1h before the pause; the remaining 1h from 15:00.
    assert d.first_response == sh(2026, 9, 15, 16)
    assert [(p.start, p.end) for p in t.pauses] == [(sh(2026, 9, 15, 10), sh(2026, 9, 15, 15))]


def test_priority_change_recomputes_from_history_keeping_the_pause() -> None:
    catalogue = load_catalogue()
    calendar = catalogue.calendar_for("warehouse")  # the office calendar
    t = _ticket(sh(2026, 9, 15, 9))
    t.issue_code, t.department = "WRG-001", "warehouse"
    t.pause(sh(2026, 9, 15, 9, 30).astimezone(UTC), "alice", "photos")
    t.customer_wrote(sh(2026, 9, 15, 10, 30).astimezone(UTC), "customer")
    normal = compute_deadlines(
        t.sla_history(), catalogue.targets("WRG-001", Priority.NORMAL), calendar
    )
    t.change_priority(Priority.URGENT, sh(2026, 9, 15, 11).astimezone(UTC), "bob", "VIP")

    urgent = compute_deadlines(
        t.sla_history(), catalogue.targets("WRG-001", Priority.URGENT), calendar
    )

    # First response: NORMAL 120 min (30 before the kept 1h pause, 90 after), URGENT 30 min.
    assert normal.first_response == sh(2026, 9, 15, 12)
    assert urgent.first_response == sh(2026, 9, 15, 9, 30)  # already due when it paused
    assert urgent.resolution is not None and normal.resolution is not None
    assert urgent.resolution < normal.resolution


def test_resolved_time_is_paused_after_reopening() -> None:
    t = _ticket(sh(2026, 9, 15, 9))
    t.resolve(sh(2026, 9, 15, 10).astimezone(UTC), "alice", "answered")
    assert compute_deadlines(t.sla_history(), TARGETS, OFFICE).resolution is None
    t.reopen(sh(2026, 9, 16, 9).astimezone(UTC), "alice", "customer came back")

    d = compute_deadlines(t.sla_history(), TARGETS, OFFICE)

    # 1h used on the 15th; the rest of the 15th was resolved (paused): 7h from the 16th 09:00.
    assert d.resolution == sh(2026, 9, 16, 17, 30)
    assert not t.first_contact_resolution


def test_first_contact_resolution_needs_one_handling_and_no_reopen() -> None:
    t = _ticket(sh(2026, 9, 15, 9))
    t.reply(sh(2026, 9, 15, 9, 5).astimezone(UTC), "alice", wait_for_customer=False)
    t.resolve(sh(2026, 9, 15, 9, 10).astimezone(UTC), "alice", "done")
    assert t.first_contact_resolution and t.handling_count == 1


def test_history_is_enough_to_recompute() -> None:
    h = SlaHistory(sh(2026, 9, 15, 9), None, None, False, ())
    assert compute_deadlines(h, TARGETS, OFFICE).first_response == sh(2026, 9, 15, 11)
