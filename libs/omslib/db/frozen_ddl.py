"""What every frozen migration helper shares: the migration operations and plain column types.

A released migration must produce the same schema forever, so the helpers that
create library tables from migrations (``omslib.outbox.migration_v1``,
``omslib.events.migration_v1``, ``omslib.tcc.migration_v1``) spell their columns
out with these plain types instead of importing the live table definitions,
which are free to change. Nothing here may change either.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BIG_SERIAL_V1 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class MigrationOps(Protocol):
    """The part of ``alembic.op`` the helpers call (a migration passes ``op`` itself)."""

    def create_table(self, table_name: str, *columns: Any, **kw: Any) -> Any: ...

    def create_index(self, index_name: str | None, table_name: str, columns: Any) -> Any: ...

    def drop_table(self, table_name: str) -> Any: ...

    def drop_index(self, index_name: str, table_name: str | None = None) -> Any: ...


def time_column_v1(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A timestamp column as every released migration created it."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)
