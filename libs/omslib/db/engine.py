"""Async engine factory with per-dialect settings and OpenTelemetry instrumentation."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from omslib.db.urls import normalize_url

__all__ = ["create_engine", "instrument_engine", "normalize_url"]

# Writers wait this long for the SQLite write lock instead of failing at once.
SQLITE_BUSY_TIMEOUT_MS = 30_000

_instrumented: weakref.WeakSet[Engine] = weakref.WeakSet()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an instrumented :class:`AsyncEngine` for ``url`` (normalised first)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url, **kwargs)
    else:
        options: dict[str, Any] = {
            "pool_size": 10,
            "max_overflow": 10,
            # Replicas sit behind load balancers and DB proxies that drop idle links.
            "pool_pre_ping": True,
            "pool_recycle": 1800,
        }
        options.update(kwargs)
        engine = create_async_engine(url, **options)
    instrument_engine(engine)
    return engine


def _sqlite_engine(url: str, **kwargs: Any) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)
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
    """Emit OpenTelemetry spans for ``engine``'s statements; a second call is a no-op."""
    sync_engine = engine.sync_engine
    if sync_engine in _instrumented:
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
