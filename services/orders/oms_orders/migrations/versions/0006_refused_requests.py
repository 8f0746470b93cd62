"""A refused request is remembered with its refusal, so a replay is refused the same way.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_requests") as batch:
        batch.add_column(sa.Column("refusal_reason", sa.String(64), nullable=True))
        batch.add_column(sa.Column("refusal_message", sa.String(500), nullable=True))
        batch.add_column(sa.Column("refusal_metadata", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_requests") as batch:
        for name in ("refusal_metadata", "refusal_message", "refusal_reason"):
            batch.drop_column(name)
