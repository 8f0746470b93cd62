"""How one process pools its database connections (``OMS_DB_*`` in ``CommonSettings``)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 10
# Proxies and load balancers drop links idle for minutes; a link used a few seconds
# ago is alive, and pinging it would cost one more round trip per transaction.
DEFAULT_PING_IDLE_SECONDS = 10.0


@dataclass(frozen=True)
class PoolOptions:
    """Pool tuning, validated by the settings that built it.

    ``size``/``max_overflow`` None: 10 and 10 on PostgreSQL, SQLAlchemy's default (or a
    single writer's pool of one) on SQLite files. ``ping_idle_seconds``: a pooled
    PostgreSQL connection idle longer than that is pinged before use (0: always).
    """

    size: int | None = None
    max_overflow: int | None = None
    ping_idle_seconds: float = DEFAULT_PING_IDLE_SECONDS
