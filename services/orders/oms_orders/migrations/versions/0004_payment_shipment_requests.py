"""The payment (amount, reference), the shipment, the refund owed, and request fingerprints.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ORDER_COLUMNS = (
    ("paid_minor_units", sa.BigInteger),
    ("paid_currency", sa.String(3)),
    ("payment_reference", sa.String(128)),
    ("promised_ship_time", sa.DateTime(timezone=True)),
    ("ship_carrier", sa.String(64)),
    ("ship_tracking_number", sa.String(128)),
    ("ship_time", sa.DateTime(timezone=True)),
    ("shipped_on_time", sa.Boolean),
    ("refund_owed_minor_units", sa.BigInteger),
)


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        for name, kind in _ORDER_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("processed_requests") as batch:
        # What the request asked, hashed: the same id with another request is refused.
        batch.add_column(
            sa.Column("fingerprint", sa.String(64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("processed_requests") as batch:
        batch.drop_column("fingerprint")
    with op.batch_alter_table("orders") as batch:
        for name, _ in reversed(_ORDER_COLUMNS):
            batch.drop_column(name)
