"""Exponential backoff with jitter: the one retry policy of the project, on tenacity.

``Backoff.ceiling(n)`` is tenacity's ``wait_exponential``: ``first * factor**(n-1)``
seconds, at most ``cap``. The wait after the n-th failure is drawn under it:

- no jitter (the default): the ceiling itself;
- ``full_jitter``: uniform in ``[0, ceiling]``, so a burst of failures does not
  make every replica retry in lock-step;
- ``spread`` (a fraction): uniform in ``ceiling * [1 - spread, 1 + spread]``;

and never less than ``floor``. ``draw`` (``random.uniform`` by default) is
injectable so tests can pin a delay.

Retries whose due time is stored (a TCC round, an inbox delivery, a channel
push) ask ``delay(n)``; loops that retry in-process use ``retrying(...)``,
tenacity's own loop waiting by the same policy.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import tenacity

Draw = Callable[[float, float], float]
"""``draw(low, high)``: a number in ``[low, high]`` (``random.uniform``)."""

# tenacity's wait strategies read only the attempt number of a call state; this
# Retrying object just lets us build one outside a retrying loop.
_NO_LOOP = tenacity.Retrying()


@dataclass(frozen=True)
class Backoff:
    first: float
    """Ceiling of the wait after the first failure, in seconds."""
    cap: float
    """Largest ceiling, in seconds."""
    factor: float = 2.0
    full_jitter: bool = False
    spread: float = 0.0
    floor: float = 0.0

    def ceiling(self, failures: int) -> float:
        """Seconds the wait after ``failures`` failures (>= 1; 0 counts as 1) may reach."""
        state = tenacity.RetryCallState(_NO_LOOP, None, (), {})
        state.attempt_number = max(failures, 1)
        return self._exponential(state)

    def seconds(self, failures: int, draw: Draw = random.uniform) -> float:
        """Seconds to wait after ``failures`` failures."""
        ceiling = self.ceiling(failures)
        if self.full_jitter:
            wait = draw(0.0, ceiling)
        elif self.spread:
            wait = ceiling * (1.0 + draw(-self.spread, self.spread))
        else:
            wait = ceiling
        return max(wait, self.floor, 0.0)

    def delay(self, failures: int, draw: Draw = random.uniform) -> timedelta:
        """``seconds`` as a ``timedelta``, for a due time stored with the work."""
        return timedelta(seconds=self.seconds(failures, draw))

    def wait(self, draw: Draw = random.uniform) -> tenacity.wait.wait_base:
        """This policy as a tenacity wait strategy (for ``retrying`` or ``AsyncRetrying``)."""
        return _BackoffWait(self, draw)

    @functools.cached_property
    def _exponential(self) -> tenacity.wait_exponential:
        return tenacity.wait_exponential(multiplier=self.first, max=self.cap, exp_base=self.factor)


class _BackoffWait(tenacity.wait.wait_base):
    def __init__(self, backoff: Backoff, draw: Draw) -> None:
        self._backoff = backoff
        self._draw = draw

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return self._backoff.seconds(retry_state.attempt_number, self._draw)


def retrying(
    backoff: Backoff,
    *,
    attempts: int,
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    draw: Draw = random.uniform,
) -> tenacity.AsyncRetrying:
    """Tenacity's async loop: up to ``attempts`` tries, waiting by ``backoff`` in between.

    Only ``retry_on`` exceptions are retried; the last one is re-raised once the
    attempts are spent, as is any other exception at once.
    """
    return tenacity.AsyncRetrying(
        wait=backoff.wait(draw),
        stop=tenacity.stop_after_attempt(attempts),
        retry=tenacity.retry_if_exception_type(retry_on),
        sleep=sleep,
        reraise=True,
    )
