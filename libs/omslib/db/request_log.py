"""Idempotency by request id: what a service answered, kept per request id.

A mutation carrying a ``request_id`` (AIP-155) is applied once; a repeat is answered
from what was recorded the first time. Each service keeps its own table, with the
answer columns it needs (an order id and outcome, a stock change's kind and
position, a ticket entry), created by its released migrations; this module is the
one way those tables are read and written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from omslib.db.inserts import insert_if_absent


class RequestLog:
    """The request ids recorded in ``table`` and the answer stored with each.

    ``table``'s primary key is the request id column, plus the scope column when ids
    are scoped (one id space per method or kind of request); every other column is
    the answer. Built once per table (its statement is compiled once).
    """

    def __init__(
        self, table: sa.Table, *, request_id: str = "request_id", scope: str | None = None
    ) -> None:
        key = (scope, request_id) if scope is not None else (request_id,)
        primary_key = {column.name for column in table.primary_key.columns}
        if primary_key != set(key):
            raise ValueError(
                f"{table.name}: the primary key {sorted(primary_key)} is not {list(key)}"
            )
        self._table = table
        self._request_id = request_id
        self._scope = scope
        self._key = key
        self._select = sa.select(*(c for c in table.c if c.name not in key)).where(
            *(table.c[name] == sa.bindparam(name) for name in key)
        )

    async def recorded(
        self, session: AsyncSession, request_id: str, *, scope: str | None = None
    ) -> sa.RowMapping | None:
        """The answer recorded for ``request_id`` (in ``scope``), or None if it is new."""
        result = await session.execute(self._select, self._key_values(request_id, scope))
        return result.mappings().first()

    async def record(
        self,
        session: AsyncSession,
        request_id: str,
        answer: Mapping[str, Any],
        *,
        scope: str | None = None,
    ) -> bool:
        """Record ``answer`` for ``request_id`` in ``session``'s transaction, if absent.

        True when recorded now; False when it was recorded before, and the earlier
        answer stays (a concurrent twin that committed first keeps its answer; on
        PostgreSQL this insert waits for a twin still in flight).
        """
        values = {**answer, **self._key_values(request_id, scope)}
        return await insert_if_absent(session, self._table, values, on=self._key)

    def _key_values(self, request_id: str, scope: str | None) -> dict[str, str]:
        if (scope is None) != (self._scope is None):
            wanted = "a scope" if self._scope is not None else "no scope"
            raise TypeError(f"{self._table.name}: request ids take {wanted}")
        values = {self._request_id: request_id}
        if self._scope is not None and scope is not None:
            values[self._scope] = scope
        return values
