"""Async engine factory with per-dialect settings and OpenTelemetry instrumentation.

The pool is tuned per process by ``PoolOptions``, which the service's settings build
from ``OMS_DB_POOL_SIZE``, ``OMS_DB_MAX_OVERFLOW`` and ``OMS_DB_PING_IDLE_SECONDS``
(``CommonSettings.db_pool()``); nothing here reads the environment.
"""

from __future__ import annotations

import logging
import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from omslib.db.pool import DEFAULT_MAX_OVERFLOW, DEFAULT_POOL_SIZE, PoolOptions
from omslib.db.urls import normalize_url

__all__ = [
    "PoolOptions",
    "create_engine",
    "instrument_engine",
    "normalize_url",
    "single_writer_options",
]

# Writers wait this long for the SQLite write lock instead of failing at once.
SQLITE_BUSY_TIMEOUT_MS = 30_000

_instrumented: weakref.WeakSet[Engine] = weakref.WeakSet()
log = logging.getLogger(__name__)


def create_engine(url: str, *, pool: PoolOptions | None = None, **kwargs: Any) -> AsyncEngine:
    """Create an instrumented :class:`AsyncEngine` for ``url`` (normalised first).

    ``pool`` (default: ``PoolOptions()``) comes from the service's settings; ``kwargs``
    are SQLAlchemy engine options and win over it.
    """
    pool = pool or PoolOptions()
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url, pool, **kwargs)
    else:
        ping_idle = pool.ping_idle_seconds
        options: dict[str, Any] = {
            # Sized for a few dozen concurrent calls per process: with a smaller pool,
            # the overflow connections are opened and closed again under load.
            "pool_size": DEFAULT_POOL_SIZE if pool.size is None else pool.size,
            "max_overflow": (
                DEFAULT_MAX_OVERFLOW if pool.max_overflow is None else pool.max_overflow
            ),
            # Replicas sit behind load balancers and DB proxies that drop idle links:
            # a link is checked before use when it sat idle (see _ping_when_idle).
            "pool_pre_ping": ping_idle <= 0,
            "pool_recycle": 1800,
        }
        options.update(kwargs)
        engine = create_async_engine(url, **options)
        if ping_idle > 0 and not options["pool_pre_ping"]:
            _ping_when_idle(engine, ping_idle)
    instrument_engine(engine)
    return engine


_IDLE_SINCE = "oms_idle_since"


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Pre-ping, but only connections that sat in the pool longer than ``idle_seconds``.

    A dead link is discarded and the pool checks out another one (as with
    ``pool_pre_ping``); a link in steady use is not pinged before every transaction.
    """
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # a new connection, or one used moments ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("connection failed its ping after sitting idle") from exc
        if not alive:
            raise DisconnectionError("connection failed its ping after sitting idle")

    event.listen(sync_engine, "checkin", checkin)
    event.listen(sync_engine, "checkout", checkout)


def single_writer_options(url: str, pool: PoolOptions | None = None) -> dict[str, Any]:
    """Engine options for a service whose calls write: on a SQLite file, one pooled
    connection, so writers queue in asyncio (cheap, in order) instead of in SQLite's
    busy handler (sleeps of up to 100 ms, p99 of seconds under load). Nothing for
    other backends, or when ``pool`` sets a size (``OMS_DB_POOL_SIZE``). Code using it
    must never hold two sessions at once (the second would wait for the first)."""
    url = normalize_url(url)
    database = make_url(url).database if url.startswith("sqlite") else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return {}  # not a SQLite file (in-memory databases have a pool of their own)
    if pool is not None and pool.size is not None:
        return {}
    return {"pool_size": 1, "max_overflow": 0}


def _sqlite_engine(url: str, pool: PoolOptions, **kwargs: Any) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {}
    if database and database != ":memory:":
        # Unset: SQLAlchemy's default pool for files. OMS_DB_POOL_SIZE=1 with
        # OMS_DB_MAX_OVERFLOW=0 makes writers queue in asyncio instead of in SQLite's
        # busy handler (which sleeps up to 100 ms at a time).
        if pool.size is not None:
            options["pool_size"] = pool.size
        if pool.max_overflow is not None:
            options["max_overflow"] = pool.max_overflow
    options.update(kwargs)
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers proceed during a write; NORMAL is durable enough with WAL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def instrument_engine(engine: AsyncEngine) -> None:
    """Emit OpenTelemetry spans for ``engine``'s statements; a second call is a no-op.

    Skipped when the process exports no traces (``setup_tracing`` installed a
    provider without any span processor, e.g. ``OTEL_TRACES_EXPORTER=none``): a span
    per statement costs about as much CPU as SQLAlchemy's own work for the statement,
    and nobody would see it.
    """
    sync_engine = engine.sync_engine
    if sync_engine in _instrumented:
        return
    if not _traces_exported():
        log.debug("no trace exporter: statements of %s are not traced", engine.url)
        return
    # SQLAlchemyInstrumentor().instrument(engine=...) only works for the first engine
    # in a process (the instrumentor is a singleton), so attach its tracer directly.
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__
    from opentelemetry.metrics import get_meter
    from opentelemetry.trace import get_tracer

    name = "opentelemetry.instrumentation.sqlalchemy"
    tracer = get_tracer(name, __version__)
    usage = get_meter(name, __version__).create_up_down_counter(
        name="db.client.connections.usage",
        unit="connections",
        description="The number of connections in the state described by `state`.",
    )
    EngineTracer(tracer, sync_engine, usage)
    _instrumented.add(sync_engine)


def _traces_exported() -> bool:
    """False only when the global provider is the SDK's and has no span processor.

    A provider not set yet (the API's proxy) counts as exported: a test or a late
    ``setup_tracing`` may still install one with processors.
    """
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        return True
    active = getattr(provider, "_active_span_processor", None)
    processors = getattr(active, "_span_processors", None)
    return processors is None or len(processors) > 0
