"""Writing events into the outbox, inside the caller's transaction."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from google.protobuf import any_pb2
from google.protobuf.message import Message
from oms.events.v1.envelope_pb2 import EventEnvelope
from sqlalchemy.ext.asyncio import AsyncSession

from omslib.clock import Clock, SystemClock
from omslib.db.inserts import dialect_insert_for
from omslib.ids import new_id
from omslib.outbox.tables import OutboxTables
from omslib.telemetry import current_traceparent

STREAM_ORDERS = "oms.orders"
STREAM_INVENTORY = "oms.inventory"
STREAM_AFTERSALES = "oms.aftersales"
STREAM_ALERTS = "oms.alerts"
STREAMS = (STREAM_ORDERS, STREAM_INVENTORY, STREAM_AFTERSALES, STREAM_ALERTS)


class OutboxNotifier:
    """Wakes the relay of this process; the unit of work calls ``notify()`` after commit.

    Calling it when nothing was written is harmless (the relay finds nothing to do).
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - a wake-up or a sweep tick
        """True when notified, False after ``timeout`` seconds; clears the flag either way."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._event.clear()


def build_envelope(
    payload: Message,
    *,
    source: str,
    aggregate_type: str,
    aggregate_id: str,
    occur_time: datetime,
    event_id: str | None = None,
    traceparent: str | None = None,
) -> EventEnvelope:
    """An ``oms.events.v1.EventEnvelope`` (sequence 0 until :func:`add_event` assigns it)."""
    envelope = EventEnvelope(
        event_id=event_id or new_id(),
        type=payload.DESCRIPTOR.name,
        source=source,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        traceparent=traceparent if traceparent is not None else (current_traceparent() or ""),
    )
    envelope.occur_time.FromDatetime(occur_time)
    packed = any_pb2.Any()
    packed.Pack(payload)
    envelope.payload.CopyFrom(packed)
    return envelope


async def add_event(
    session: AsyncSession,
    tables: OutboxTables,
    *,
    stream: str,
    envelope: EventEnvelope | None = None,
    payload: Message | None = None,
    source: str = "",
    aggregate_type: str = "",
    aggregate_id: str = "",
    clock: Clock | None = None,
) -> EventEnvelope:
    """Write one event into the outbox in ``session``'s transaction; return its envelope.

    Pass either a prebuilt ``envelope`` or ``payload`` with ``source``,
    ``aggregate_type`` and ``aggregate_id``. The traceparent is the current
    span's; the sequence is the aggregate's next one (its counter row stays
    locked until the caller commits, so an aggregate's events commit in order).
    Nothing is published unless the caller commits.
    """
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; expected one of {STREAMS}")
    now = (clock or SystemClock()).now()
    if envelope is None:
        if payload is None or not (source and aggregate_type and aggregate_id):
            raise ValueError("add_event needs an envelope, or payload+source+aggregate ids")
        envelope = build_envelope(
            payload,
            source=source,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            occur_time=now,
        )
    envelope.sequence = await _next_sequence(
        session, tables.sequences, envelope.aggregate_type, envelope.aggregate_id
    )
    await session.execute(
        _insert_event(tables.outbox),
        {
            "event_id": envelope.event_id,
            "stream": stream,
            "event_type": envelope.type,
            "aggregate_type": envelope.aggregate_type,
            "aggregate_id": envelope.aggregate_id,
            "sequence": envelope.sequence,
            "envelope": envelope.SerializeToString(),
            "created_at": now,
        },
    )
    return envelope


# Statements are built once per table (and backend), with bound parameters: building
# and hashing a statement per event costs about as much CPU as executing it.
@functools.cache
def _insert_event(outbox: sa.Table) -> sa.Insert:
    return sa.insert(outbox)


@functools.cache
def _sequence_upsert(table: sa.Table, dialect: str) -> Any:
    stmt = dialect_insert_for(dialect, table).values(
        aggregate_type=sa.bindparam("aggregate_type"),
        aggregate_id=sa.bindparam("aggregate_id"),
        last_sequence=1,
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.aggregate_type, table.c.aggregate_id],
        set_={"last_sequence": table.c.last_sequence + 1},
    ).returning(table.c.last_sequence)


async def _next_sequence(
    session: AsyncSession, table: sa.Table, aggregate_type: str, aggregate_id: str
) -> int:
    stmt = _sequence_upsert(table, session.get_bind().dialect.name)
    params = {"aggregate_type": aggregate_type, "aggregate_id": aggregate_id}
    return int((await session.execute(stmt, params)).scalar_one())
