"""When the coordinator tries a failed Confirm/Cancel round again, and when it gives up."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Growing intervals with jitter; park after ``max_attempts`` failed rounds."""

    base: timedelta = timedelta(seconds=1)
    factor: float = 2.0
    max_interval: timedelta = timedelta(minutes=5)
    jitter: float = 0.2
    max_attempts: int = 8

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        raw = self.base.total_seconds() * (self.factor ** max(0, attempt - 1))
        capped = min(raw, self.max_interval.total_seconds())
        spread = 1.0 + rng.uniform(-self.jitter, self.jitter)
        return timedelta(seconds=max(0.0, capped * spread))
