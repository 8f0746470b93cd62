"""Refunds: the amounts on the order, each refund branch's freeze, the participant barrier.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from omslib.tcc.migration_v1 import create_barrier_table_v1

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _time(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        for name in ("refunded_minor_units", "refund_frozen_minor_units"):
            batch.add_column(sa.Column(name, sa.BigInteger, nullable=False, server_default="0"))
    op.create_table(
        "refund_freezes",
        sa.Column("gid", sa.String(128), primary_key=True),
        sa.Column("branch_id", sa.String(128), primary_key=True),
        sa.Column("order_id", sa.String(26), nullable=False),
        sa.Column("amount_minor_units", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _time("create_time"),
        _time("update_time"),
    )
    op.create_index("ix_refund_freezes_order", "refund_freezes", ["order_id"])
    create_barrier_table_v1(op)


def downgrade() -> None:
    op.drop_table("tcc_barrier")
    op.drop_index("ix_refund_freezes_order", table_name="refund_freezes")
    op.drop_table("refund_freezes")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("refund_frozen_minor_units")
        batch.drop_column("refunded_minor_units")
