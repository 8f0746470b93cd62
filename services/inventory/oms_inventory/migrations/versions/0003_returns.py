"""Returns: expected returns with their lines and receipts, the damaged bucket per stock
row, and damaged before/after in the stock audit log.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _branch_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["gid", "branch_id"],
        ["expected_returns.gid", "expected_returns.branch_id"],
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.add_column(
        "stock_levels",
        sa.Column(
            "damaged",
            sa.BigInteger,
            sa.CheckConstraint("damaged >= 0", name="ck_stock_damaged_not_negative"),
            nullable=False,
            server_default="0",
        ),
    )
    for name in ("damaged_before", "damaged_after"):
        op.add_column(
            "stock_audit", sa.Column(name, sa.BigInteger, nullable=False, server_default="0")
        )
    op.create_table(
        "expected_returns",
        sa.Column("gid", sa.String(128), primary_key=True),
        sa.Column("branch_id", sa.String(128), primary_key=True),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("reservation_gid", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _time("created_at"),
        _time("updated_at"),
    )
    op.create_index("ix_expected_returns_order", "expected_returns", ["order_id"])
    op.create_index("ix_expected_returns_reservation", "expected_returns", ["reservation_gid"])
    op.create_table(
        "expected_return_lines",
        sa.Column("gid", sa.String(128), primary_key=True),
        sa.Column("branch_id", sa.String(128), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("source_warehouses", sa.JSON, nullable=False),
        _branch_fk(),
        sa.CheckConstraint("quantity > 0", name="ck_expected_return_line_quantity_positive"),
    )
    op.create_table(
        "return_receipts",
        sa.Column("seq", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(128), nullable=False, unique=True),
        sa.Column("gid", sa.String(128), nullable=False),
        sa.Column("branch_id", sa.String(128), nullable=False),
        sa.Column("warehouse_code", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        _time("received_at"),
        _branch_fk(),
    )
    op.create_index("ix_return_receipts_branch", "return_receipts", ["gid", "branch_id", "seq"])
    op.create_table(
        "return_receipt_lines",
        sa.Column(
            "request_id",
            sa.String(128),
            sa.ForeignKey("return_receipts.request_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("condition", sa.String(16), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_return_receipt_line_quantity_positive"),
    )


def downgrade() -> None:
    for table in (
        "return_receipt_lines",
        "return_receipts",
        "expected_return_lines",
        "expected_returns",
    ):
        op.drop_table(table)
    with op.batch_alter_table("stock_audit") as batch:
        batch.drop_column("damaged_after")
        batch.drop_column("damaged_before")
    with op.batch_alter_table("stock_levels") as batch:
        batch.drop_column("damaged")
