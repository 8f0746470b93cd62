"""Events: the outbox (tables the relay publishes from) and the consumer's processed/parked events.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from omslib.events.migration_v1 import create_consumer_tables_v1, drop_consumer_tables_v1
from omslib.outbox.migration_v1 import create_outbox_tables_v1, drop_outbox_tables_v1

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_tables_v1(op)
    # Only in services that consume events:
    create_consumer_tables_v1(op)


def downgrade() -> None:
    drop_consumer_tables_v1(op)
    drop_outbox_tables_v1(op)
