"""When to try a failed delivery again: exponential backoff with full jitter.

The n-th retry waits a uniformly random time in ``[0, min(cap, base * 2**(n-1))]``
(full jitter spreads a burst of failures so replicas do not retry in lock-step).

A failure because orders (or a service behind it) is down says nothing about the
push, so it is retried without limit and at most ``outage_cap_seconds`` apart: an
outage of seconds must not leave a push waiting for minutes, nor dead-letter one we
acknowledged. Only answers from a running orders count towards ``max_attempts``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from omslib.retry import Backoff, Draw


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 0.5
    cap_seconds: float = 300.0
    max_attempts: int = 20
    outage_cap_seconds: float = 5.0

    def exhausted(self, attempts: int) -> bool:
        """True once ``attempts`` failed attempts mean we stop and park the entry as DEAD."""
        return attempts >= self.max_attempts

    def delay(
        self,
        attempts: int,
        rand: Draw = random.uniform,
        *,
        outage: bool = False,
    ) -> timedelta:
        """Wait before the next attempt after ``attempts`` (>= 1) failed attempts."""
        cap = min(self.cap_seconds, self.outage_cap_seconds) if outage else self.cap_seconds
        return Backoff(first=self.base_seconds, cap=cap, full_jitter=True).delay(attempts, rand)
