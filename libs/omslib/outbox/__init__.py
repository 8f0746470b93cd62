"""Transactional outbox: events written with the change, relayed to Redis Streams.

See docs/events.md for how a service wires it in.
"""

from omslib.outbox.relay import OutboxRelay, PendingEvent, RelaySettings, relay_settings
from omslib.outbox.tables import OutboxTables, outbox_tables
from omslib.outbox.unit_of_work import OutboxUnitOfWork
from omslib.outbox.writer import (
    STREAM_AFTERSALES,
    STREAM_ALERTS,
    STREAM_INVENTORY,
    STREAM_ORDERS,
    STREAMS,
    OutboxNotifier,
    add_event,
    build_envelope,
)

__all__ = [
    "STREAMS",
    "STREAM_AFTERSALES",
    "STREAM_ALERTS",
    "STREAM_INVENTORY",
    "STREAM_ORDERS",
    "OutboxNotifier",
    "OutboxRelay",
    "OutboxTables",
    "OutboxUnitOfWork",
    "PendingEvent",
    "RelaySettings",
    "add_event",
    "build_envelope",
    "outbox_tables",
    "relay_settings",
]
