"""FROZEN: the event consumer's tables as their first migration creates them.

A released migration calls ``create_consumer_tables_v1(op)``; its output must
never change. A later change to ``omslib.events.tables`` is a new helper
(``migration_v2.py``) and a new migration, never an edit here (see
docs/conventions-for-services.md, "Migrations").
"""

from __future__ import annotations

import sqlalchemy as sa

from omslib.db.frozen_ddl import MigrationOps, time_column_v1


def create_consumer_tables_v1(op: MigrationOps) -> None:
    """Create ``processed_events`` and ``parked_events`` (version 1)."""
    op.create_table(
        "processed_events",
        sa.Column("consumer_group", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(26), primary_key=True),
        time_column_v1("processed_at"),
    )
    op.create_index("ix_processed_events_at", "processed_events", ["processed_at"])
    op.create_table(
        "parked_events",
        sa.Column("consumer_group", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        time_column_v1("parked_at"),
    )


def drop_consumer_tables_v1(op: MigrationOps) -> None:
    """Undo ``create_consumer_tables_v1`` (for a migration's ``downgrade``)."""
    for table in ("parked_events", "processed_events"):
        op.drop_table(table)
