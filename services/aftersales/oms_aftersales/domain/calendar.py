"""Business calendars: working hours per weekday (breaks are the gaps), holidays, a time zone.

Deadlines count working time only; the clock also stands still during a ticket's
paused intervals. All arithmetic is in UTC on the way in and out; the calendar's
own time zone decides what a working day is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A deadline further than this is a configuration error (a calendar with no hours).
MAX_SEARCH_DAYS = 800

Span = tuple[datetime, datetime]


class CalendarHasNoWorkingTime(ValueError):
    """The calendar yields no working time within MAX_SEARCH_DAYS."""


@dataclass(frozen=True)
class BusinessCalendar:
    """``week`` maps weekday (0 = Monday) to its working spans in local time, in order."""

    name: str
    time_zone: str = "Asia/Shanghai"
    week: Mapping[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    def spans_from(self, start: datetime) -> Iterator[Span]:
        """Working spans in UTC, in order, from ``start`` on (the first one clipped at it)."""
        tz = ZoneInfo(self.time_zone)
        local_start = start.astimezone(tz)
        day = local_start.date()
        for _ in range(MAX_SEARCH_DAYS):
            if day not in self.holidays:
                for begin, end in self.week.get(day.weekday(), ()):
                    s = datetime.combine(day, begin, tz).astimezone(UTC)
                    e = datetime.combine(day, end, tz).astimezone(UTC)
                    if e <= start:
                        continue
                    yield (max(s, start.astimezone(UTC)), e)
            day += timedelta(days=1)

    def add(self, start: datetime, duration: timedelta, pauses: Sequence[Span] = ()) -> datetime:
        """The instant when ``duration`` of working time outside ``pauses`` has passed."""
        remaining = duration
        if remaining <= timedelta(0):
            return start
        for span_start, span_end in _subtract(self.spans_from(start), pauses):
            length = span_end - span_start
            if length >= remaining:
                return span_start + remaining
            remaining -= length
        raise CalendarHasNoWorkingTime(
            f"calendar {self.name!r} has no working time within {MAX_SEARCH_DAYS} days"
        )

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero if ``end`` is not after ``start``)."""
        total = timedelta(0)
        for span_start, span_end in self.spans_from(start):
            if span_start >= end:
                break
            total += min(span_end, end) - span_start
        return total


def _subtract(spans: Iterator[Span], pauses: Sequence[Span]) -> Iterator[Span]:
    """``spans`` with every pause cut out; pauses need not be sorted."""
    ordered = sorted(pauses)
    for start, end in spans:
        pieces = [(start, end)]
        for p_start, p_end in ordered:
            next_pieces: list[Span] = []
            for s, e in pieces:
                if p_end <= s or p_start >= e:
                    next_pieces.append((s, e))
                    continue
                if s < p_start:
                    next_pieces.append((s, p_start))
                if p_end < e:
                    next_pieces.append((p_end, e))
            pieces = next_pieces
        yield from pieces
