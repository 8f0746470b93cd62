"""Throwaway PostgreSQL databases for tests (created and dropped through asyncpg)."""

from __future__ import annotations

import asyncio
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import make_url


def admin_dsn(url: str) -> str:
    """A plain ``postgresql://`` DSN that asyncpg accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(url: str, database: str) -> str:
    """``url`` pointed at ``database``, with the asyncpg driver."""
    return (
        make_url(url)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


def fresh_name(name: str) -> str:
    safe = re.sub(r"[^a-z0-9_]", "_", name.lower())[:40]
    return f"omst_{secrets.token_hex(4)}_{safe}"


def create_database(admin_url: str, database: str) -> None:
    _run(_execute(admin_url, f'CREATE DATABASE "{database}"'))


def drop_database(admin_url: str, database: str) -> None:
    _run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def _execute(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn(admin_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _run(coro: Any) -> None:
    # Callable from sync and async tests alike: a fresh loop in a worker thread
    # never clashes with the test's running loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()
