"""TCC coordinator log: phase, attempts, lease and version (omslib.tcc).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tcc_transactions") as batch:
        batch.add_column(sa.Column("phase", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("lease_owner", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    # Transactions logged before this revision already had a phase when unfinished.
    op.execute("UPDATE tcc_transactions SET phase = 'confirm' WHERE state = 'CONFIRMING'")
    op.execute("UPDATE tcc_transactions SET phase = 'cancel' WHERE state = 'CANCELLING'")
    op.create_index("ix_orders_payment_due", "orders", ["state", "payment_deadline"])


def downgrade() -> None:
    op.drop_index("ix_orders_payment_due", table_name="orders")
    with op.batch_alter_table("tcc_transactions") as batch:
        for column in ("version", "lease_until", "lease_owner", "attempts", "phase"):
            batch.drop_column(column)
