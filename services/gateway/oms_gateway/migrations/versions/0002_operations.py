"""Delivery attempts, poller cursors, alerts; inbox index by platform and time.

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
    op.create_index("ix_inbox_platform_received", "inbox", ["platform", "received_at"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("inbox_id", sa.String(26), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("order_id", sa.String(64)),
    )
    op.create_index(
        "ix_delivery_attempts_inbox", "delivery_attempts", ["inbox_id", "attempted_at"]
    )
    op.create_table(
        "poll_cursors",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("cursor", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("episode", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("webhook_delivered_at", sa.DateTime(timezone=True)),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("code", "subject", "episode", name="uq_alerts_episode"),
    )
    op.create_index("ix_alerts_unpublished", "alerts", ["published_at", "id"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("poll_cursors")
    op.drop_table("delivery_attempts")
    op.drop_index("ix_inbox_platform_received", table_name="inbox")
