"""Transactional outbox (omslib.outbox): events leave with the change they describe.

Mirrors ``outbox_tables`` (the block in docs/events.md). Orders consumes no
events, so the consumer tables (processed_events, parked_events) are left out.

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


def downgrade() -> None:
    drop_outbox_tables_v1(op)
