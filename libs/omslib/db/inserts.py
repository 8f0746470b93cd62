"""Insert-if-absent and upserts on the backends we run on (PostgreSQL and SQLite).

Both dialects spell ``INSERT ... ON CONFLICT`` the same way, but SQLAlchemy only
offers it on each dialect's own ``insert``. This is the one place that picks it;
no ``SELECT ... FOR UPDATE`` anywhere: on PostgreSQL a racing insert of the same
key waits for the first writer and then sees the conflict, which serialises
racing callers; on SQLite writers are serialised anyway.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession, table: sa.Table) -> Any:
    """An INSERT with ``on_conflict_do_*`` for the session's backend."""
    return dialect_insert_for(session.get_bind().dialect.name, table)


def dialect_insert_for(dialect: str, table: sa.Table) -> Any:
    """``dialect_insert`` for a backend named by its dialect (to build a statement once)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts on {dialect}")


async def insert_if_absent(
    session: AsyncSession,
    table: sa.Table,
    values: Mapping[str, Any],
    *,
    on: tuple[str, ...] | None = None,
) -> bool:
    """Insert ``values`` unless the row exists; True when this call inserted it.

    ``on`` names the unique columns whose conflict means "exists" (any unique
    conflict when omitted); any other violation still raises.
    """
    statement = insert_if_absent_statement(session.get_bind().dialect.name, table, on)
    result = await session.execute(statement, dict(values))
    return bool(getattr(result, "rowcount", 0) == 1)


# Statements are built once per table, backend and key, with bound parameters:
# building and hashing a statement per call costs about as much CPU as executing it.
@functools.cache
def insert_if_absent_statement(dialect: str, table: sa.Table, on: tuple[str, ...] | None) -> Any:
    """The cached ``INSERT ... ON CONFLICT [(on)] DO NOTHING`` behind ``insert_if_absent``."""
    return dialect_insert_for(dialect, table).on_conflict_do_nothing(
        index_elements=list(on) if on is not None else None
    )
