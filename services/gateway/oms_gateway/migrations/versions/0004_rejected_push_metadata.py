"""Refused pushes keep bounded metadata only: source address, body length and SHA-256, a
few header names. Existing rows are trimmed to that (their headers and bodies dropped).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 200
# Mirrors RejectedPush (domain/inbox.py) as of this revision.
MAX_MESSAGE = 500
MAX_HEADER_NAMES = 16
MAX_HEADER_NAME = 64


def upgrade() -> None:
    with op.batch_alter_table("rejected_pushes") as batch:
        batch.add_column(sa.Column("source", sa.String(64)))
        batch.add_column(sa.Column("body_bytes", sa.Integer))
        batch.add_column(sa.Column("body_sha256", sa.String(64)))
        batch.add_column(sa.Column("header_names", sa.JSON))
    _trim_existing_rows()
    with op.batch_alter_table("rejected_pushes") as batch:
        batch.drop_column("headers")
        batch.drop_column("body")
        batch.alter_column("body_bytes", existing_type=sa.Integer, nullable=False)
        batch.alter_column("body_sha256", existing_type=sa.String(64), nullable=False)
        batch.alter_column("header_names", existing_type=sa.JSON, nullable=False)


def _trim_existing_rows() -> None:
    """Length, hash and header names from each kept body and headers, a batch at a time
    (a row may hold megabytes: never load the whole table)."""
    bind = op.get_bind()
    table = sa.table(
        "rejected_pushes",
        sa.column("id", sa.String),
        sa.column("message", sa.Text),
        sa.column("headers", sa.JSON),
        sa.column("body", sa.LargeBinary),
        sa.column("source", sa.String),
        sa.column("body_bytes", sa.Integer),
        sa.column("body_sha256", sa.String),
        sa.column("header_names", sa.JSON),
    )
    last = ""
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.message, table.c.headers, table.c.body)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            bind.execute(
                table.update().where(table.c.id == row.id).values(**_trimmed(row))
            )
        last = rows[-1].id


def _trimmed(row: Any) -> dict[str, Any]:
    body = bytes(row.body or b"")
    headers = row.headers if isinstance(row.headers, dict) else {}
    names = sorted({str(name)[:MAX_HEADER_NAME] for name in headers})[:MAX_HEADER_NAMES]
    return {
        "message": (row.message or "")[:MAX_MESSAGE],
        "body_bytes": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "header_names": names,
    }


def downgrade() -> None:
    # The dropped headers and bodies cannot come back: old rows get empty ones.
    with op.batch_alter_table("rejected_pushes") as batch:
        batch.add_column(sa.Column("headers", sa.JSON, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("body", sa.LargeBinary, nullable=False, server_default=""))
        batch.drop_column("header_names")
        batch.drop_column("body_sha256")
        batch.drop_column("body_bytes")
        batch.drop_column("source")
