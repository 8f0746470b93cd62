"""Outbox tables (alerts are published as events); alerts.published_at dropped (unused:
the outbox marks what was published).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from omslib.outbox.migration_v1 import create_outbox_tables_v1, drop_outbox_tables_v1

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_tables_v1(op)
    op.drop_index("ix_alerts_unpublished", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("published_at")


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True)))
    op.create_index("ix_alerts_unpublished", "alerts", ["published_at", "id"])
    drop_outbox_tables_v1(op)
