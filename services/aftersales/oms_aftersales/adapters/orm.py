"""SQLAlchemy Core tables of the aftersales service (its own database)."""

from __future__ import annotations

from omslib.db.types import BigSerial, UtcDateTime
from omslib.events import consumer_tables
from omslib.outbox import outbox_tables
from omslib.tcc import coordinator_tables
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ID = String(26)

tickets = Table(
    "tickets",
    metadata,
    Column("ticket_id", ID, primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("channel", String(24), nullable=False),
    Column("customer_key", String(160), nullable=False, index=True),
    Column("order_id", String(64), nullable=True, index=True),
    Column("description", Text, nullable=False),
    Column("issue_code", String(16), nullable=False),
    Column("department", String(64), nullable=False),
    Column("priority", String(8), nullable=False),
    Column("classified_by", String(48), nullable=False),
    Column("intent", String(32), nullable=False),
    Column("mood", String(8), nullable=False),
    Column("state", String(24), nullable=False, index=True),
    Column("assignee", String(64), nullable=False),
    Column("escalation", Integer, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("first_response_at", UtcDateTime, nullable=True),
    Column("awaiting_update_since", UtcDateTime, nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("resolution", Text, nullable=False),
    Column("handling_count", Integer, nullable=False),
    Column("reopen_count", Integer, nullable=False),
    Column("handled_since_open", Boolean, nullable=False),
    # [[start iso, end iso or null, reason], ...]: the stored paused intervals.
    Column("pauses", JSON, nullable=False),
    Column("platform_case_id", String(128), nullable=False, index=True),
    Column("platform_case_kind", String(16), nullable=False),
    # Derived from the above after every change; kept for listing by nearest deadline.
    Column("first_response_due", UtcDateTime, nullable=True),
    Column("next_update_due", UtcDateTime, nullable=True),
    Column("resolution_due", UtcDateTime, nullable=True),
    Column("nearest_due", UtcDateTime, nullable=True),
    Column("paused", Boolean, nullable=False),
    Column("sla_calendar", String(64), nullable=False),
    Index("ix_tickets_state_nearest", "state", "nearest_due", "ticket_id"),
)

# The thread: every message on a ticket.
ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("entry_id", ID, primary_key=True),
    Column("ticket_id", ID, nullable=False, index=True),
    Column("kind", String(12), nullable=False),
    Column("channel", String(24), nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("mood", String(8), nullable=False),
    Column("customer_key", String(160), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# Append-only audit trail.
ticket_audit = Table(
    "ticket_audit",
    metadata,
    Column("id", BigSerial, primary_key=True, autoincrement=True),
    Column("ticket_id", ID, nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("trace_id", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# Idempotency of intake and mutations: (scope, request_id) -> what it did.
requests = Table(
    "requests",
    metadata,
    Column("scope", String(32), primary_key=True),
    Column("request_id", String(128), primary_key=True),
    Column("ticket_id", ID, nullable=False),
    Column("entry_id", String(26), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_key", String(160), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("buyer_id", String(128), nullable=False),
    Column("phone", String(24), nullable=False),
    Column("wechat_openid", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# Every identity we met, pointing at the customer it belongs to.
customer_aliases = Table(
    "customer_aliases",
    metadata,
    Column("identity", String(160), primary_key=True),
    Column("customer_key", String(160), nullable=False, index=True),
)

# What we learnt of orders from oms.orders events.
known_orders = Table(
    "known_orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("customer_key", String(160), nullable=False, index=True),
    Column("platform", String(16), nullable=False),
    Column("platform_order_id", String(128), nullable=False),
    Column("state", String(24), nullable=False),
    Column("total_minor_units", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("promised_ship_at", UtcDateTime, nullable=True),
    Column("shipped_at", UtcDateTime, nullable=True),
    UniqueConstraint("platform", "platform_order_id", name="uq_known_orders_platform_ref"),
)

# Timers are rows: a restarted service fires what came due while it was down.
timers = Table(
    "timers",
    metadata,
    Column("id", BigSerial, primary_key=True, autoincrement=True),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("key", String(96), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("level", Integer, nullable=False),
    Column("deadline", String(16), nullable=False),
    Column("deadline_due_at", UtcDateTime, nullable=True),
    Column("due_at", UtcDateTime, nullable=False),
    Column("fired_at", UtcDateTime, nullable=True),
    Column("notified_at", UtcDateTime, nullable=True),
    UniqueConstraint("subject_type", "subject_id", "key", name="uq_timers_subject_key"),
    Index("ix_timers_due", "fired_at", "due_at"),
)

outbox = outbox_tables(metadata)  # outbox, outbox_sequences, outbox_leases
events_in = consumer_tables(metadata)  # processed_events, parked_events (oms.orders consumer)

# Refunds: one row per request (idempotent by request_id), moved by the refund state machine.
refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", ID, primary_key=True),
    Column("request_id", String(128), nullable=False, unique=True),
    Column("order_id", String(128), nullable=False, index=True),
    Column("ticket_id", String(30), nullable=False, index=True),
    Column("platform", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("shipping", BigInteger, nullable=False),
    # [[sku, quantity, warehouse], ...]; empty for refund-only.
    Column("return_lines", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("state_reason", Text, nullable=False),
    Column("gid", ID, nullable=False, unique=True),
    Column("reservation_gid", String(128), nullable=False),
    Column("payment_reference", String(256), nullable=False),
    Column("shipped", Boolean, nullable=False),
    Column("payout_path", String(16), nullable=False),
    Column("payout_reference", String(128), nullable=False),
    Column("payout_attempts", Integer, nullable=False),
    Column("payout_due_at", UtcDateTime, nullable=True),
    Column("differences", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("approved_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("refunded_at", UtcDateTime, nullable=True),
    # Optimistic concurrency: every save is "UPDATE ... WHERE version = read version".
    Column("version", Integer, nullable=False),
    Index("ix_refunds_payout_due", "state", "payout_due_at"),
)

refund_audit = Table(
    "refund_audit",
    metadata,
    Column("id", BigSerial, primary_key=True, autoincrement=True),
    Column("refund_id", ID, nullable=False, index=True),
    Column("from_state", String(16), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("trace_id", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# A marketplace's refund ids, each recorded once: the platform never pays twice through us.
platform_refunds = Table(
    "platform_refunds",
    metadata,
    Column("platform_refund_id", String(128), primary_key=True),
    Column("refund_id", ID, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

TCC_TABLES = coordinator_tables(metadata)  # tcc_transactions, tcc_branches (refund TCC log)
