"""Tables of the inventory database (SQLAlchemy Core; the migrations create them)."""

from __future__ import annotations

import sqlalchemy as sa
from omslib.db.types import BigSerial, UtcDateTime
from omslib.events import consumer_tables
from omslib.outbox import outbox_tables

metadata = sa.MetaData()

warehouses = sa.Table(
    "warehouses",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("province", sa.String(64), nullable=False),
    sa.Column("city", sa.String(64), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("nearby_provinces", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

stock_levels = sa.Table(
    "stock_levels",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse_code", sa.String(32), sa.ForeignKey("warehouses.code"), primary_key=True),
    sa.Column("on_hand", sa.BigInteger, nullable=False),
    sa.Column("reserved", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Returned units not fit to sell (revision 0003): apart from on hand.
    sa.Column(
        "damaged",
        sa.BigInteger,
        sa.CheckConstraint("damaged >= 0", name="ck_stock_damaged_not_negative"),
        nullable=False,
        server_default="0",
    ),
    # The last line of defence against overselling, whatever the code does.
    sa.CheckConstraint("reserved >= 0", name="ck_stock_reserved_not_negative"),
    sa.CheckConstraint("on_hand >= reserved", name="ck_stock_on_hand_covers_reserved"),
)

stock_requests = sa.Table(
    "stock_requests",
    metadata,
    sa.Column("request_id", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("warehouse_code", sa.String(32), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

stock_audit = sa.Table(
    "stock_audit",
    metadata,
    sa.Column("seq", BigSerial, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(26), nullable=False, unique=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("warehouse_code", sa.String(32), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("on_hand_before", sa.BigInteger, nullable=False),
    sa.Column("on_hand_after", sa.BigInteger, nullable=False),
    sa.Column("reserved_before", sa.BigInteger, nullable=False),
    sa.Column("reserved_after", sa.BigInteger, nullable=False),
    sa.Column("trace_id", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("damaged_before", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("damaged_after", sa.BigInteger, nullable=False, server_default="0"),
    sa.Index("ix_stock_audit_sku_seq", "sku", "seq"),
    sa.Index("ix_stock_audit_at", "at"),
)

reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("gid", sa.String(128), primary_key=True),
    sa.Column("branch_id", sa.String(128), primary_key=True),
    sa.Column("order_id", sa.String(128), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("ship_to_province", sa.String(64), nullable=False),
    sa.Column("expire_at", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # The expiry backstop scans live reservations by deadline.
    sa.Index("ix_reservations_state_expire", "state", "expire_at"),
    sa.Index("ix_reservations_order", "order_id"),
)

reservation_items = sa.Table(
    "reservation_items",
    metadata,
    sa.Column("gid", sa.String(128), primary_key=True),
    sa.Column("branch_id", sa.String(128), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse_code", sa.String(32), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.ForeignKeyConstraint(
        ["gid", "branch_id"], ["reservations.gid", "reservations.branch_id"], ondelete="CASCADE"
    ),
    sa.CheckConstraint("quantity > 0", name="ck_reservation_item_quantity_positive"),
)

# TCC barrier, keyed by (gid, branch_id, op); ``reason`` is the op whose call wrote
# the row (a cancel writes the "try" row too, which is what refuses a late Try).
tcc_barrier = sa.Table(
    "tcc_barrier",
    metadata,
    sa.Column("gid", sa.String(128), primary_key=True),
    sa.Column("branch_id", sa.String(128), primary_key=True),
    sa.Column("op", sa.String(16), primary_key=True),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_tcc_barrier_created", "created_at"),
)

# Returns (revision 0003): the goods a refund's TCC branch expects back, by SKU, tied
# to the reservation that deducted them; the warehouse's receipts against them.
expected_returns = sa.Table(
    "expected_returns",
    metadata,
    sa.Column("gid", sa.String(128), primary_key=True),
    sa.Column("branch_id", sa.String(128), primary_key=True),
    sa.Column("order_id", sa.String(128), nullable=False),
    sa.Column("reservation_gid", sa.String(128), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_expected_returns_order", "order_id"),
    sa.Index("ix_expected_returns_reservation", "reservation_gid"),
)

expected_return_lines = sa.Table(
    "expected_return_lines",
    metadata,
    sa.Column("gid", sa.String(128), primary_key=True),
    sa.Column("branch_id", sa.String(128), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("source_warehouses", sa.JSON, nullable=False),
    sa.ForeignKeyConstraint(
        ["gid", "branch_id"],
        ["expected_returns.gid", "expected_returns.branch_id"],
        ondelete="CASCADE",
    ),
    sa.CheckConstraint("quantity > 0", name="ck_expected_return_line_quantity_positive"),
)

# One row per scan; ``request_id`` is the warehouse's idempotency key, ``seq`` the order.
return_receipts = sa.Table(
    "return_receipts",
    metadata,
    sa.Column("seq", BigSerial, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(128), nullable=False, unique=True),
    sa.Column("gid", sa.String(128), nullable=False),
    sa.Column("branch_id", sa.String(128), nullable=False),
    sa.Column("warehouse_code", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["gid", "branch_id"],
        ["expected_returns.gid", "expected_returns.branch_id"],
        ondelete="CASCADE",
    ),
    sa.Index("ix_return_receipts_branch", "gid", "branch_id", "seq"),
)

return_receipt_lines = sa.Table(
    "return_receipt_lines",
    metadata,
    sa.Column(
        "request_id",
        sa.String(128),
        sa.ForeignKey("return_receipts.request_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("condition", sa.String(16), nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.CheckConstraint("quantity > 0", name="ck_return_receipt_line_quantity_positive"),
)

# Events: written with the change, relayed to Redis (docs/events.md).
outbox = outbox_tables(metadata)  # outbox, outbox_sequences, outbox_leases
# Channel stock sync consumes oms.inventory: its processed and parked events.
events_in = consumer_tables(metadata)  # processed_events, parked_events
