"""Insert-if-absent for the dialects we run on (no SELECT ... FOR UPDATE anywhere)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from omslib.tcc import insert_if_absent as barrier_insert_if_absent
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_if_absent(session: AsyncSession, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` unless the primary key exists; True when this call inserted.

    On PostgreSQL a concurrent insert of the same key waits for the other
    transaction and then reports the conflict, which serialises racing callers.
    """
    return await barrier_insert_if_absent(session, table, values)
