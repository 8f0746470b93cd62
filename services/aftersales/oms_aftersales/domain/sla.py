"""The three SLA deadlines of a ticket, computed from its stored history.

Nothing here is incremental: every deadline is recomputed from the facts
(opening time, first response, the customer message still owed an update, the
paused intervals) with the current targets and calendar. A change of code,
priority or calendar therefore never loses paused time (the fault other help
desks show when the SLA changes mid-ticket).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from oms_aftersales.domain.calendar import BusinessCalendar, Span


class DeadlineKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_UPDATE = "next_update"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class SlaTargets:
    """Working time allowed for each deadline at one priority."""

    first_response: timedelta
    next_update: timedelta
    resolution: timedelta


@dataclass(frozen=True)
class Pause:
    """A span the clocks stood still: waiting for the customer, or resolved until reopened."""

    start: datetime
    end: datetime | None
    reason: str = "waiting_customer"

    def span(self, now: datetime) -> Span:
        return (self.start, self.end or now)


@dataclass(frozen=True)
class SlaHistory:
    """The facts the deadlines are computed from."""

    opened_at: datetime
    first_response_at: datetime | None
    # The earliest customer message after the first response not yet answered.
    awaiting_update_since: datetime | None
    resolved: bool
    pauses: tuple[Pause, ...]


@dataclass(frozen=True)
class Deadlines:
    """Pending deadlines (None when met, not owed or paused)."""

    first_response: datetime | None = None
    next_update: datetime | None = None
    resolution: datetime | None = None
    paused: bool = False
    # The business calendar they count on.
    calendar: str = ""

    def pending(self) -> dict[DeadlineKind, datetime]:
        found = {
            DeadlineKind.FIRST_RESPONSE: self.first_response,
            DeadlineKind.NEXT_UPDATE: self.next_update,
            DeadlineKind.RESOLUTION: self.resolution,
        }
        return {kind: due for kind, due in found.items() if due is not None}

    def nearest(self) -> datetime | None:
        pending = self.pending()
        return min(pending.values()) if pending else None


def compute_deadlines(
    history: SlaHistory, targets: SlaTargets, calendar: BusinessCalendar
) -> Deadlines:
    """The deadlines now. While a pause is open they are unknown (they depend on its end)."""
    if history.resolved:
        return Deadlines(calendar=calendar.name)
    if any(p.end is None for p in history.pauses):
        return Deadlines(paused=True, calendar=calendar.name)
    pauses = [p.span(p.start) for p in history.pauses]
    first = None
    if history.first_response_at is None:
        first = calendar.add(history.opened_at, targets.first_response, pauses)
    update = None
    # Before the first response, that deadline covers every customer message.
    if history.first_response_at is not None and history.awaiting_update_since is not None:
        update = calendar.add(history.awaiting_update_since, targets.next_update, pauses)
    resolution = calendar.add(history.opened_at, targets.resolution, pauses)
    return Deadlines(
        first_response=first, next_update=update, resolution=resolution, calendar=calendar.name
    )
