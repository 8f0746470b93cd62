"""Tables of the TCC library, added to a service's own ``MetaData`` and migration.

``coordinator_tables(metadata)`` for a coordinator's durable log and
``barrier_table(metadata)`` for a participant's barrier. Migrations create the
barrier with the frozen ``omslib.tcc.migration_v1.create_barrier_table_v1``; a
change here needs a new frozen helper and a new migration (see docs/tcc.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from omslib.db.types import UtcDateTime


@dataclass(frozen=True)
class CoordinatorTables:
    transactions: sa.Table
    branches: sa.Table


def coordinator_tables(metadata: sa.MetaData, *, prefix: str = "tcc") -> CoordinatorTables:
    transactions = sa.Table(
        f"{prefix}_transactions",
        metadata,
        sa.Column("gid", sa.String(26), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("next_attempt_time", UtcDateTime(), nullable=True),
        sa.Column("reason", sa.Text, nullable=False, default=""),
        sa.Column("create_time", UtcDateTime(), nullable=False),
        sa.Column("update_time", UtcDateTime(), nullable=False),
        # Added by the library (revision "tcc lease" of a coordinator service).
        sa.Column("phase", sa.String(16), nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64), nullable=False, server_default=""),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Index(f"ix_{prefix}_transactions_due", "state", "next_attempt_time"),
    )
    branches = sa.Table(
        f"{prefix}_branches",
        metadata,
        sa.Column(
            "gid",
            sa.String(26),
            sa.ForeignKey(f"{prefix}_transactions.gid", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("branch_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("participant", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("last_error", sa.Text, nullable=False, default=""),
        sa.Column("update_time", UtcDateTime(), nullable=False),
    )
    return CoordinatorTables(transactions, branches)


# Columns the library added to a coordinator's transactions table after the first
# release; a service's Alembic revision adds exactly these (see docs/tcc.md).
LEASE_COLUMNS = ("phase", "attempts", "lease_owner", "lease_until", "version")


def barrier_table(metadata: sa.MetaData, *, name: str = "tcc_barrier") -> sa.Table:
    """Barrier rows keyed by (gid, branch_id, op); ``reason`` names the call that wrote it."""
    return sa.Table(
        name,
        metadata,
        sa.Column("gid", sa.String(128), primary_key=True),
        sa.Column("branch_id", sa.String(128), primary_key=True),
        sa.Column("op", sa.String(16), primary_key=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Index(f"ix_{name}_created", "created_at"),
    )
