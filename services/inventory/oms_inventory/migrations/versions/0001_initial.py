"""Warehouses, stock levels, stock audit, request ids, reservations and the TCC barrier.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from omslib.tcc.migration_v1 import create_barrier_table_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "warehouses",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("province", sa.String(64), nullable=False),
        sa.Column("city", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("nearby_provinces", sa.JSON, nullable=False),
        _time("created_at"),
        _time("updated_at"),
    )
    op.create_table(
        "stock_levels",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column(
            "warehouse_code", sa.String(32), sa.ForeignKey("warehouses.code"), primary_key=True
        ),
        sa.Column("on_hand", sa.BigInteger, nullable=False),
        sa.Column("reserved", sa.BigInteger, nullable=False),
        _time("updated_at"),
        sa.CheckConstraint("reserved >= 0", name="ck_stock_reserved_not_negative"),
        sa.CheckConstraint("on_hand >= reserved", name="ck_stock_on_hand_covers_reserved"),
    )
    op.create_table(
        "stock_requests",
        sa.Column("request_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("warehouse_code", sa.String(32), nullable=False),
        _time("created_at"),
    )
    op.create_table(
        "stock_audit",
        sa.Column("seq", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(26), nullable=False, unique=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("warehouse_code", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("on_hand_before", sa.BigInteger, nullable=False),
        sa.Column("on_hand_after", sa.BigInteger, nullable=False),
        sa.Column("reserved_before", sa.BigInteger, nullable=False),
        sa.Column("reserved_after", sa.BigInteger, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        _time("at"),
    )
    op.create_index("ix_stock_audit_sku_seq", "stock_audit", ["sku", "seq"])
    op.create_index("ix_stock_audit_at", "stock_audit", ["at"])
    op.create_table(
        "reservations",
        sa.Column("gid", sa.String(128), primary_key=True),
        sa.Column("branch_id", sa.String(128), primary_key=True),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ship_to_province", sa.String(64), nullable=False),
        _time("expire_at"),
        _time("created_at"),
        _time("updated_at"),
    )
    op.create_index("ix_reservations_state_expire", "reservations", ["state", "expire_at"])
    op.create_index("ix_reservations_order", "reservations", ["order_id"])
    op.create_table(
        "reservation_items",
        sa.Column("gid", sa.String(128), primary_key=True),
        sa.Column("branch_id", sa.String(128), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("warehouse_code", sa.String(32), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["gid", "branch_id"],
            ["reservations.gid", "reservations.branch_id"],
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("quantity > 0", name="ck_reservation_item_quantity_positive"),
    )
    create_barrier_table_v1(op)


def downgrade() -> None:
    for index, table in (
        ("ix_tcc_barrier_created", "tcc_barrier"),
        ("ix_reservations_order", "reservations"),
        ("ix_reservations_state_expire", "reservations"),
        ("ix_stock_audit_at", "stock_audit"),
        ("ix_stock_audit_sku_seq", "stock_audit"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "tcc_barrier",
        "reservation_items",
        "reservations",
        "stock_audit",
        "stock_requests",
        "stock_levels",
        "warehouses",
    ):
        op.drop_table(table)
