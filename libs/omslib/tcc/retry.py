"""When the coordinator tries a failed Confirm/Cancel round again, and when it gives up."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from omslib.retry import Backoff


@dataclass(frozen=True)
class RetryPolicy:
    """Growing intervals with jitter; park after ``max_attempts`` failed rounds.

    The n-th round waits ``base * factor**(n-1)`` (at most ``max_interval``), give
    or take ``jitter`` of it (``omslib.retry.Backoff``).
    """

    base: timedelta = timedelta(seconds=1)
    factor: float = 2.0
    max_interval: timedelta = timedelta(minutes=5)
    jitter: float = 0.2
    max_attempts: int = 8

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        return self.backoff.delay(attempt, rng.uniform)

    @property
    def backoff(self) -> Backoff:
        return Backoff(
            first=self.base.total_seconds(),
            cap=self.max_interval.total_seconds(),
            factor=self.factor,
            spread=self.jitter,
        )
