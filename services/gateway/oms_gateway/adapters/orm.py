"""Gateway tables: the inbox of verified pushes, its delivery attempts, rejected pushes,
poller cursors, operator alerts and the outbox that publishes them as events."""

from __future__ import annotations

from omslib.db.leases import Lease
from omslib.db.types import UtcDateTime
from omslib.outbox import outbox_tables
from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

inbox = Table(
    "inbox",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("traceparent", String(64)),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", UtcDateTime()),
    Column("last_error", Text),
    Column("order_id", String(64)),
    Column("outcome", String(32)),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("platform", "event_id", name="uq_inbox_platform_event"),
    Index("ix_inbox_due", "state", "next_attempt_at"),
    Index("ix_inbox_platform_received", "platform", "received_at"),
)
# A delivery worker's claim on an entry (omslib.db.leases).
inbox_lease = Lease.on(inbox)

# Bounded metadata of refused pushes, never their headers or body (migration 0004).
rejected_pushes = Table(
    "rejected_pushes",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("source", String(64)),
    Column("body_bytes", Integer, nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("header_names", JSON, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Index("ix_rejected_pushes_received_at", "received_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("inbox_id", String(26), nullable=False),
    Column("attempted_at", UtcDateTime(), nullable=False),
    Column("worker", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),  # delivered | retry | dead
    Column("error", Text),
    Column("order_id", String(64)),
    Index("ix_delivery_attempts_inbox", "inbox_id", "attempted_at"),
)

poll_cursors = Table(
    "poll_cursors",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("cursor", Text),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", UtcDateTime()),
)
# A poller replica's claim on a channel's cursor.
poll_cursor_lease = Lease.on(poll_cursors)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("code", String(64), nullable=False),
    Column("subject", String(64), nullable=False),
    # One alert per episode: e.g. the time of the last push before a silence.
    Column("episode", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("details", JSON, nullable=False),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("webhook_delivered_at", UtcDateTime()),
    UniqueConstraint("code", "subject", "episode", name="uq_alerts_episode"),
)

# outbox, outbox_sequences, outbox_leases: each alert's event is written with its row.
outbox = outbox_tables(metadata)
