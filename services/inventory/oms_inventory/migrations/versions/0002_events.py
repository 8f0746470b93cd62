"""Events: the outbox (tables the relay publishes from) and the consumer's processed/parked events.

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

BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(26), nullable=False, unique=True),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("aggregate_type", sa.String(64), nullable=False),
        sa.Column("aggregate_id", sa.String(128), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        _time("created_at"),
        _time("sent_at", nullable=True),
        sa.UniqueConstraint(
            "aggregate_type", "aggregate_id", "sequence", name="uq_outbox_aggregate_sequence"
        ),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "id"])
    op.create_table(
        "outbox_sequences",
        sa.Column("aggregate_type", sa.String(64), primary_key=True),
        sa.Column("aggregate_id", sa.String(128), primary_key=True),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "outbox_leases",
        sa.Column("aggregate_type", sa.String(64), primary_key=True),
        sa.Column("aggregate_id", sa.String(128), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        _time("lease_until"),
    )
    # Only in services that consume events:
    op.create_table(
        "processed_events",
        sa.Column("consumer_group", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(26), primary_key=True),
        _time("processed_at"),
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
        _time("parked_at"),
    )


def downgrade() -> None:
    for table in ("parked_events", "processed_events", "outbox_leases", "outbox_sequences"):
        op.drop_table(table)
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
