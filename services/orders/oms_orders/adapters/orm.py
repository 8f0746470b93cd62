"""SQLAlchemy Core tables of the orders service (its own database)."""

from __future__ import annotations

from omslib.db.types import UtcDateTime
from omslib.outbox import outbox_tables
from omslib.tcc import barrier_table, coordinator_tables
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
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

orders = Table(
    "orders",
    metadata,
    Column("order_id", ID, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("platform_order_id", String(128), nullable=False),
    Column("state", String(24), nullable=False),
    Column("total_minor_units", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("buyer_id", String(128), nullable=False, default=""),
    Column("buyer_name", String(256), nullable=False, default=""),
    Column("ship_province", String(64), nullable=False, default=""),
    Column("ship_city", String(64), nullable=False, default=""),
    Column("ship_district", String(64), nullable=False, default=""),
    Column("ship_line1", String(512), nullable=False, default=""),
    Column("ship_postal_code", String(32), nullable=False, default=""),
    Column("ship_recipient_name", String(128), nullable=False, default=""),
    Column("ship_phone", String(64), nullable=False, default=""),
    Column("ship_country_code", String(2), nullable=False, default=""),
    Column("platform_create_time", UtcDateTime(), nullable=True),
    Column("platform_update_time", UtcDateTime(), nullable=True),
    Column("platform_version", BigInteger, nullable=False, default=0),
    Column("platform_status", String(64), nullable=False, default=""),
    Column("pay_time", UtcDateTime(), nullable=True),
    Column("payment_deadline", UtcDateTime(), nullable=False),
    Column("gid", ID, nullable=False),
    Column("state_reason", Text, nullable=False, default=""),
    Column("reason_codes", JSON, nullable=False),
    # Revision 0004: the payment, the shipment, the refund owed.
    Column("paid_minor_units", BigInteger, nullable=True),
    Column("paid_currency", String(3), nullable=True),
    Column("payment_reference", String(128), nullable=True),
    Column("promised_ship_time", UtcDateTime(), nullable=True),
    Column("ship_carrier", String(64), nullable=True),
    Column("ship_tracking_number", String(128), nullable=True),
    Column("ship_time", UtcDateTime(), nullable=True),
    Column("shipped_on_time", Boolean, nullable=True),
    Column("refund_owed_minor_units", BigInteger, nullable=True),
    # Revision 0005: refunds (changed only by the refund participant's conditional updates).
    Column("refunded_minor_units", BigInteger, nullable=False, default=0, server_default="0"),
    Column("refund_frozen_minor_units", BigInteger, nullable=False, default=0, server_default="0"),
    Column("create_time", UtcDateTime(), nullable=False),
    Column("update_time", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("platform", "platform_order_id", name="uq_orders_platform_order"),
    Index("ix_orders_state", "state"),
    Index("ix_orders_payment_due", "state", "payment_deadline"),
    Index("ix_orders_gid", "gid"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", ID, ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(128), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor_units", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("title", String(512), nullable=False, default=""),
)

order_allocations = Table(
    "order_allocations",
    metadata,
    Column("order_id", ID, ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("sku", String(128), nullable=False),
    Column("warehouse_code", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
)

order_history = Table(
    "order_history",
    metadata,
    Column("order_id", ID, ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("from_state", String(24), nullable=True),
    Column("to_state", String(24), nullable=False),
    Column("time", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("actor", String(128), nullable=False, default=""),
)

# Request ids already answered (every mutating RPC), with what each asked
# (fingerprint); no FK, so the record
# outlives nothing it should not (orders are never deleted once answered).
processed_requests = Table(
    "processed_requests",
    metadata,
    Column("request_id", String(256), primary_key=True),
    Column("order_id", ID, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("create_time", UtcDateTime(), nullable=False),
    Column("fingerprint", String(64), nullable=False, default=""),
    # A refused request (revision 0006): replays are refused the same way.
    Column("refusal_reason", String(64), nullable=True),
    Column("refusal_message", String(500), nullable=True),
    Column("refusal_metadata", JSON, nullable=True),
)

# Each refund branch's hold on an order's refundable amount (revision 0005).
refund_freezes = Table(
    "refund_freezes",
    metadata,
    Column("gid", String(128), primary_key=True),
    Column("branch_id", String(128), primary_key=True),
    Column("order_id", ID, nullable=False),
    Column("amount_minor_units", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("state", String(16), nullable=False),
    Column("create_time", UtcDateTime(), nullable=False),
    Column("update_time", UtcDateTime(), nullable=False),
    Index("ix_refund_freezes_order", "order_id"),
)

# Orders as a refund participant: its TCC barrier (revision 0005).
tcc_barrier = barrier_table(metadata)

# The TCC coordinator's durable log: the generic library's tables (0001 + 0002).
_tcc = coordinator_tables(metadata)
tcc_transactions = _tcc.transactions
tcc_branches = _tcc.branches
TCC_TABLES = _tcc

# Events written with the change they describe (outbox, outbox_sequences,
# outbox_leases; revision 0003). Orders consumes no events: no processed_events.
outbox = outbox_tables(metadata)
