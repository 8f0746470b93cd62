"""Insert-if-absent for the dialects we run on (no SELECT ... FOR UPDATE anywhere)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_if_absent(session: AsyncSession, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` unless the primary key exists; True when this call inserted.

    On PostgreSQL a concurrent insert of the same key waits for the other
    transaction and then reports the conflict, which serialises racing callers.
    """
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:
        raise RuntimeError(f"insert_if_absent: unsupported dialect {dialect}")
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0) == 1)
