"""Per-platform token buckets kept in Redis, so every gateway replica shares one budget.

One Lua script refills and takes a token atomically. Fails open: when Redis cannot
answer, the push is let through (and a warning logged, at most every few seconds).
Refusing pushes because the *limiter* is down would turn a Redis outage into lost
or delayed orders, while the inbox is built to absorb bursts; the limit exists to
shed abusive or runaway senders, which a short Redis outage does not make worse.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import redis.asyncio
from omslib.clock import Clock
from redis.exceptions import RedisError

from oms_gateway.config_operations import RateLimit
from oms_gateway.service_layer.ports import RateDecision as Decision

log = logging.getLogger(__name__)

KEY_PREFIX = "oms:gateway:rate:"
# After Redis fails, skip it this long so a hanging Redis does not slow every push.
FAIL_OPEN_SECONDS = 1.0

# KEYS[1] bucket; ARGV: rate per second, burst, now in ms. Returns {allowed, wait_ms}.
TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000.0)
  at = now
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000.0 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000.0 / rate) + 1000)
return {allowed, wait}
"""


ALLOW = Decision(True)


class RedisRateLimiter:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        limits: Callable[[str], RateLimit | None],
        clock: Clock,
        *,
        warn_every_seconds: float = 10.0,
    ) -> None:
        self._client = client
        self._limits = limits
        self._clock = clock
        self._script = client.register_script(TOKEN_BUCKET)
        self._warn_every = warn_every_seconds
        self._last_warning = -math.inf
        self._skip_until = -math.inf  # after a failure, do not wait on Redis for a while

    async def acquire(self, platform: str) -> Decision:
        """Take one token of ``platform``'s bucket; fail open if Redis cannot answer."""
        limit = self._limits(platform)
        if limit is None:
            return ALLOW
        if time.monotonic() < self._skip_until:
            return ALLOW
        now_ms = int(self._clock.now().timestamp() * 1000)
        try:
            allowed, wait_ms = await self._script(
                keys=[KEY_PREFIX + platform], args=[limit.rate, limit.burst, now_ms]
            )
        except (RedisError, OSError) as exc:
            self._skip_until = time.monotonic() + FAIL_OPEN_SECONDS
            self._warn(platform, exc)
            return ALLOW
        if int(allowed) == 1:
            return ALLOW
        return Decision(False, max(1, math.ceil(int(wait_ms) / 1000)))

    def _warn(self, platform: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= self._warn_every:
            self._last_warning = now
            log.warning(
                "rate limiter unavailable (Redis); letting pushes through unlimited",
                extra={"code": "RATE_LIMIT_FAIL_OPEN", "platform": platform, "error": repr(exc)},
            )

    async def close(self) -> None:
        await self._client.aclose()
