"""FROZEN: the outbox tables as their first migration creates them.

A released migration calls ``create_outbox_tables_v1(op)``; its output must never
change, or databases migrated before and after the change would differ. When
``omslib.outbox.tables`` changes, add ``migration_v2.py`` with the *change* (an
``alter``), and a new migration in each service that calls it; never edit this
file (see docs/conventions-for-services.md, "Migrations").
"""

from __future__ import annotations

import sqlalchemy as sa

from omslib.db.frozen_ddl import BIG_SERIAL_V1, MigrationOps, time_column_v1


def create_outbox_tables_v1(op: MigrationOps) -> None:
    """Create ``outbox``, ``outbox_sequences`` and ``outbox_leases`` (version 1)."""
    op.create_table(
        "outbox",
        sa.Column("id", BIG_SERIAL_V1, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(26), nullable=False, unique=True),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("aggregate_type", sa.String(64), nullable=False),
        sa.Column("aggregate_id", sa.String(128), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        time_column_v1("created_at"),
        time_column_v1("sent_at", nullable=True),
        sa.UniqueConstraint(
            "aggregate_type", "aggregate_id", "sequence", name="uq_outbox_aggregate_sequence"
        ),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "id"])
    op.create_table(
        "outbox_sequences",
        sa.Column("aggregate_type", sa.String(64), primary_key=True),
        sa.Column("aggregate_id", sa.String(128), primary_key=True),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "outbox_leases",
        sa.Column("aggregate_type", sa.String(64), primary_key=True),
        sa.Column("aggregate_id", sa.String(128), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        time_column_v1("lease_until"),
    )


def drop_outbox_tables_v1(op: MigrationOps) -> None:
    """Undo ``create_outbox_tables_v1`` (for a migration's ``downgrade``)."""
    for table in ("outbox_leases", "outbox_sequences"):
        op.drop_table(table)
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
