"""When a platform's silence is abnormal: judged against the feed's own rhythm at this
time of day, not one fixed threshold.

A feed that pushes twice an hour at night is not silent after three minutes; one
that pushed 50 a minute is. The rhythm is the feed's push rate in the same
time-of-day window (now ± WINDOW) on each of the last LOOKBACK_DAYS days and
today, counting only time since the feed's first push. A silence is abnormal once
it lasts QUIET_FACTOR usual gaps (for a steady feed, the chance of such a gap by
chance is e^-QUIET_FACTOR, under 1%), and never before the floor (three minutes by
default: OMS_GATEWAY_FEED_SILENCE_SECONDS), so a busy feed is caught quickly. With
fewer than MIN_PUSHES pushes in those windows the feed has no rhythm yet (a few
sample pushes on a laptop, a shop that is new, an hour it never sells): no alert.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=1)
LOOKBACK_DAYS = 7
MIN_PUSHES = 10
QUIET_FACTOR = 5


def time_of_day_windows(now: datetime, first_push: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The windows around this time of day, today and each earlier day, clipped to the
    feed's life (``first_push`` .. ``now``); empty windows are left out."""
    for days_ago in range(LOOKBACK_DAYS + 1):
        centre = now - timedelta(days=days_ago)
        start, end = max(centre - WINDOW, first_push), min(centre + WINDOW, now)
        if end > start:
            yield start, end


@dataclass(frozen=True)
class FeedRhythm:
    """How many pushes arrived in ``observed`` time of the same time-of-day windows."""

    pushes: int
    observed: timedelta

    @property
    def usual_gap(self) -> timedelta | None:
        if self.pushes < MIN_PUSHES or self.observed <= timedelta(0):
            return None
        return self.observed / self.pushes

    def silence_threshold(self, floor: timedelta) -> timedelta | None:
        """How long a silence may last before it is abnormal; None: no rhythm to judge by."""
        gap = self.usual_gap
        return None if gap is None else max(floor, gap * QUIET_FACTOR)
