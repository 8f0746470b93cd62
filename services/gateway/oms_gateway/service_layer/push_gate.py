"""Rate limits around a push's signature check.

The platform's budget is taken only once the signature holds, so forged traffic cannot
spend a real platform's budget (and get its genuine pushes refused). Signature failures
are counted per source address instead; over that limit a sender's failures are answered
429 and no longer recorded, so an anonymous client cannot fill ``rejected_pushes``
either. A sender whose pushes verify is never slowed by this, whatever it sent before.
"""

from __future__ import annotations

from dataclasses import dataclass

from oms_gateway.domain.errors import RateLimited
from oms_gateway.service_layer.ports import RateLimiterPort

FAILURES_KEY = "auth-failures:"


class TooManyFailures(RateLimited):
    """A source address sent more unverifiable pushes than its limit allows."""

    reason = "TOO_MANY_FAILURES"


@dataclass(frozen=True)
class PushGate:
    platforms: RateLimiterPort | None = None
    failures: RateLimiterPort | None = None

    async def verified(self, platform: str) -> None:
        """Take one push from ``platform``'s budget; raise ``RateLimited`` when it is spent."""
        if self.platforms is None:
            return
        decision = await self.platforms.acquire(platform)
        if not decision.allowed:
            raise RateLimited(
                f"platform {platform!r} is over its rate limit; retry later",
                metadata={"retry_after_seconds": str(decision.retry_after_seconds)},
            )

    async def refused(self, source: str | None) -> None:
        """Count a failed signature against ``source``; ``TooManyFailures`` over its limit."""
        if self.failures is None or not source:
            return
        decision = await self.failures.acquire(FAILURES_KEY + source)
        if not decision.allowed:
            raise TooManyFailures(
                "too many pushes with invalid signatures from this address; retry later",
                metadata={"retry_after_seconds": str(decision.retry_after_seconds)},
            )
