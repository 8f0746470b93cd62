"""Orders, lines, allocations, history, processed requests and the TCC coordinator log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from omslib.tcc.migration_v1 import create_branches_table_v1
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _order_fk() -> sa.Column:
    return sa.Column(
        "order_id",
        sa.String(26),
        sa.ForeignKey("orders.order_id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(26), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("platform_order_id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("total_minor_units", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("buyer_id", sa.String(128), nullable=False),
        sa.Column("buyer_name", sa.String(256), nullable=False),
        sa.Column("ship_province", sa.String(64), nullable=False),
        sa.Column("ship_city", sa.String(64), nullable=False),
        sa.Column("ship_district", sa.String(64), nullable=False),
        sa.Column("ship_line1", sa.String(512), nullable=False),
        sa.Column("ship_postal_code", sa.String(32), nullable=False),
        sa.Column("ship_recipient_name", sa.String(128), nullable=False),
        sa.Column("ship_phone", sa.String(64), nullable=False),
        sa.Column("ship_country_code", sa.String(2), nullable=False),
        _time("platform_create_time", nullable=True),
        _time("platform_update_time", nullable=True),
        sa.Column("platform_version", sa.BigInteger, nullable=False),
        sa.Column("platform_status", sa.String(64), nullable=False),
        _time("pay_time", nullable=True),
        _time("payment_deadline"),
        sa.Column("gid", sa.String(26), nullable=False),
        sa.Column("state_reason", sa.Text, nullable=False),
        sa.Column("reason_codes", sa.JSON, nullable=False),
        _time("create_time"),
        _time("update_time"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("platform", "platform_order_id", name="uq_orders_platform_order"),
    )
    op.create_index("ix_orders_state", "orders", ["state"])
    op.create_index("ix_orders_gid", "orders", ["gid"])
    op.create_table(
        "order_lines",
        _order_fk(),
        sa.Column("line_no", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_minor_units", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
    )
    op.create_table(
        "order_allocations",
        _order_fk(),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("warehouse_code", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
    )
    op.create_table(
        "order_history",
        _order_fk(),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("from_state", sa.String(24), nullable=True),
        sa.Column("to_state", sa.String(24), nullable=False),
        _time("time"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
    )
    op.create_table(
        "processed_requests",
        sa.Column("request_id", sa.String(256), primary_key=True),
        sa.Column("order_id", sa.String(26), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        _time("create_time"),
    )
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
    )
    op.create_index(
        "ix_tcc_transactions_due", "tcc_transactions", ["state", "next_attempt_time"]
    )
    create_branches_table_v1(op)


def downgrade() -> None:
    for table in (
        "tcc_branches",
        "tcc_transactions",
        "processed_requests",
        "order_history",
        "order_allocations",
        "order_lines",
        "orders",
    ):
        op.drop_table(table)
