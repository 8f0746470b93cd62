"""Tickets, thread, audit, request ids, customers, known orders, timers; outbox and consumer tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from omslib.events.migration_v1 import create_consumer_tables_v1
from omslib.outbox.migration_v1 import create_outbox_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TABLES = (
    "customer_aliases",
    "customers",
    "known_orders",
    "requests",
    "ticket_audit",
    "ticket_messages",
    "tickets",
    "timers",
    "parked_events",
    "processed_events",
    "outbox_leases",
    "outbox_sequences",
    "outbox",
)


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "customer_aliases",
        sa.Column("identity", sa.String(160), primary_key=True),
        sa.Column("customer_key", sa.String(160), nullable=False),
    )
    op.create_index("ix_customer_aliases_customer_key", "customer_aliases", ["customer_key"])
    op.create_table(
        "customers",
        sa.Column("customer_key", sa.String(160), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("buyer_id", sa.String(128), nullable=False),
        sa.Column("phone", sa.String(24), nullable=False),
        sa.Column("wechat_openid", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "known_orders",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("customer_key", sa.String(160), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("platform_order_id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("total_minor_units", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promised_ship_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("platform", "platform_order_id", name="uq_known_orders_platform_ref"),
    )
    op.create_index("ix_known_orders_customer_key", "known_orders", ["customer_key"])
    op.create_table(
        "requests",
        sa.Column("scope", sa.String(32), primary_key=True),
        sa.Column("request_id", sa.String(128), primary_key=True),
        sa.Column("ticket_id", sa.String(26), nullable=False),
        sa.Column("entry_id", sa.String(26), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ticket_audit",
        sa.Column("id", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(26), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ticket_audit_ticket_id", "ticket_audit", ["ticket_id"])
    op.create_table(
        "ticket_messages",
        sa.Column("entry_id", sa.String(26), primary_key=True),
        sa.Column("ticket_id", sa.String(26), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("mood", sa.String(8), nullable=False),
        sa.Column("customer_key", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ticket_messages_ticket_id", "ticket_messages", ["ticket_id"])
    op.create_index("ix_ticket_messages_customer_key", "ticket_messages", ["customer_key"])
    op.create_table(
        "tickets",
        sa.Column("ticket_id", sa.String(26), primary_key=True),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("customer_key", sa.String(160), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("issue_code", sa.String(16), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("classified_by", sa.String(48), nullable=False),
        sa.Column("intent", sa.String(32), nullable=False),
        sa.Column("mood", sa.String(8), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=False),
        sa.Column("escalation", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("awaiting_update_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("handling_count", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("handled_since_open", sa.Boolean(), nullable=False),
        sa.Column("pauses", sa.JSON(), nullable=False),
        sa.Column("platform_case_id", sa.String(128), nullable=False),
        sa.Column("platform_case_kind", sa.String(16), nullable=False),
        sa.Column("first_response_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_update_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("nearest_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("sla_calendar", sa.String(64), nullable=False),
    )
    op.create_index("ix_tickets_customer_key", "tickets", ["customer_key"])
    op.create_index("ix_tickets_order_id", "tickets", ["order_id"])
    op.create_index("ix_tickets_state_nearest", "tickets", ["state", "nearest_due", "ticket_id"])
    op.create_index("ix_tickets_platform_case_id", "tickets", ["platform_case_id"])
    op.create_index("ix_tickets_state", "tickets", ["state"])
    op.create_table(
        "timers",
        sa.Column("id", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(96), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.String(16), nullable=False),
        sa.Column("deadline_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("subject_type", "subject_id", "key", name="uq_timers_subject_key"),
    )
    op.create_index("ix_timers_due", "timers", ["fired_at", "due_at"])
    create_outbox_tables_v1(op)
    # Only in services that consume events:
    create_consumer_tables_v1(op)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
