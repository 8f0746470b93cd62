"""Refunds, their audit trail, platform refund ids, and the refund TCC log (omslib.tcc).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from omslib.tcc.migration_v1 import create_branches_table_v1
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.String(26), primary_key=True),
        sa.Column("request_id", sa.String(128), nullable=False, unique=True),
        sa.Column("order_id", sa.String(128), nullable=False, index=True),
        sa.Column("ticket_id", sa.String(30), nullable=False, index=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("shipping", sa.BigInteger, nullable=False),
        sa.Column("return_lines", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("state_reason", sa.Text, nullable=False),
        sa.Column("gid", sa.String(26), nullable=False, unique=True),
        sa.Column("reservation_gid", sa.String(128), nullable=False),
        sa.Column("payment_reference", sa.String(256), nullable=False),
        sa.Column("shipped", sa.Boolean, nullable=False),
        sa.Column("payout_path", sa.String(16), nullable=False),
        sa.Column("payout_reference", sa.String(128), nullable=False),
        sa.Column("payout_attempts", sa.Integer, nullable=False),
        _time("payout_due_at", nullable=True),
        sa.Column("differences", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _time("refunded_at", nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_refunds_payout_due", "refunds", ["state", "payout_due_at"])
    op.create_table(
        "refund_audit",
        sa.Column("id", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("refund_id", sa.String(26), nullable=False, index=True),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        _time("created_at"),
    )
    op.create_table(
        "platform_refunds",
        sa.Column("platform_refund_id", sa.String(128), primary_key=True),
        sa.Column("refund_id", sa.String(26), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        _time("created_at"),
    )
    # The coordinator log of omslib.tcc, with the library's lease columns from the start.
    op.create_table(
        "tcc_transactions",
        sa.Column("gid", sa.String(26), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _time("next_attempt_time", nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        _time("create_time"),
        _time("update_time"),
        sa.Column("phase", sa.String(16), nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64), nullable=False, server_default=""),
        _time("lease_until", nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_tcc_transactions_due", "tcc_transactions", ["state", "next_attempt_time"])
    create_branches_table_v1(op)


def downgrade() -> None:
    for table in ("tcc_branches", "tcc_transactions", "platform_refunds", "refund_audit"):
        op.drop_table(table)
    op.drop_index("ix_refunds_payout_due", table_name="refunds")
    op.drop_table("refunds")
