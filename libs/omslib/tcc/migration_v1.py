"""FROZEN: the participant barrier table as its first migration creates it.

A released migration calls ``create_barrier_table_v1(op)``; its output must never
change. A later change to ``omslib.tcc.barrier_table`` is a new helper
(``migration_v2.py``) and a new migration, never an edit here (see
docs/conventions-for-services.md, "Migrations").
"""

from __future__ import annotations

import sqlalchemy as sa

from omslib.db.frozen_ddl import MigrationOps, time_column_v1


def create_barrier_table_v1(op: MigrationOps) -> None:
    """Create ``tcc_barrier`` and its ``created_at`` index (version 1)."""
    op.create_table(
        "tcc_barrier",
        sa.Column("gid", sa.String(128), primary_key=True),
        sa.Column("branch_id", sa.String(128), primary_key=True),
        sa.Column("op", sa.String(16), primary_key=True),
        sa.Column("reason", sa.String(16), nullable=False),
        time_column_v1("created_at"),
    )
    op.create_index("ix_tcc_barrier_created", "tcc_barrier", ["created_at"])


def create_branches_table_v1(op: MigrationOps) -> None:
    """Create ``tcc_branches`` (version 1), after ``tcc_transactions`` (its foreign key)."""
    op.create_table(
        "tcc_branches",
        sa.Column(
            "gid",
            sa.String(26),
            sa.ForeignKey("tcc_transactions.gid", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("branch_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("participant", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        time_column_v1("update_time"),
    )
