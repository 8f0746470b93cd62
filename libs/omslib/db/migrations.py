"""Alembic migrations run programmatically at service start-up.

Each service keeps its own ``migrations/`` folder whose ``env.py`` is just::

    from omslib.db.migrations import run_env
    from oms_<service>.adapters.orm import metadata

    run_env(metadata)
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["advisory_lock_key", "alembic_config", "run_env", "upgrade_schema"]


def alembic_config(script_location: str | Path) -> Config:
    """An in-memory Alembic config (no alembic.ini) for ``script_location``."""
    config = Config()
    config.set_main_option("script_location", str(Path(script_location).resolve()))
    return config


def advisory_lock_key(script_location: str | Path) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` per migrations folder."""
    # Keyed on the folder name rather than the absolute path so replicas installed
    # at different paths still serialise; the parent dir keeps services apart.
    path = Path(script_location).resolve()
    ident = f"{path.parent.name}/{path.name}".encode()
    return int.from_bytes(hashlib.blake2b(ident, digest_size=8).digest(), "big", signed=True)


async def upgrade_schema(engine: AsyncEngine, script_location: str | Path) -> None:
    """Run ``alembic upgrade head`` for ``script_location`` on ``engine``.

    Safe when several replicas start at once against one PostgreSQL database: the
    upgrade runs inside one transaction holding an advisory lock, so the others
    wait and then find nothing left to do.
    """
    config = alembic_config(script_location)
    # Alembic's `context`/`op` proxies are process globals: one upgrade at a time here.
    async with _process_lock(), _sqlite_file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"),
                {"key": advisory_lock_key(script_location)},
            )
        await conn.run_sync(_upgrade, config)


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@contextlib.asynccontextmanager
async def _process_lock() -> AsyncIterator[None]:
    lock = _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        yield


@contextlib.asynccontextmanager
async def _sqlite_file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Serialise processes migrating one SQLite file (its DDL is not transactional)."""
    database = make_url(str(engine.url)).database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    fd = os.open(f"{database}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def run_env(metadata: MetaData, *, version_table: str = "alembic_version") -> None:
    """Body of every service's ``migrations/env.py``.

    Uses the connection handed over by :func:`upgrade_schema` when present;
    otherwise supports the alembic CLI with ``-x url=...`` or ``sqlalchemy.url``.
    """
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on_connection(connection, metadata, version_table)
    elif context.is_offline_mode():
        context.configure(
            url=_cli_url(),
            target_metadata=metadata,
            literal_binds=True,
            version_table=version_table,
        )
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_online(_cli_url(), metadata, version_table))


def _run_on_connection(connection: Connection, metadata: MetaData, version_table: str) -> None:
    from alembic import context

    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str, metadata: MetaData, version_table: str) -> None:
    from omslib.db.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run_on_connection, metadata, version_table)
    finally:
        await engine.dispose()


def _cli_url() -> str:
    from alembic import context

    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("alembic: pass the database with -x url=... or set sqlalchemy.url")
    return url
