"""Event consumers over Redis Streams: consumer groups, idempotent handlers, parking.

See docs/events.md for how a service wires them in.
"""

from omslib.events.consumer import (
    ConsumerSettings,
    EventConsumer,
    Handler,
    ReceivedEvent,
    parked_events,
)
from omslib.events.tables import ConsumerTables, consumer_tables

__all__ = [
    "ConsumerSettings",
    "ConsumerTables",
    "EventConsumer",
    "Handler",
    "ReceivedEvent",
    "consumer_tables",
    "parked_events",
]
