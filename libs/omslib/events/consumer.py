"""Consumers of the event streams: consumer groups, idempotent handlers, parking, spans.

A handler runs in a database transaction that also records the event id in
``processed_events``; the stream entry is acknowledged only after that commit.
A duplicate (the relay may publish twice) finds its id recorded and is skipped.
Entries a crashed consumer left pending are taken over with XAUTOCLAIM once
idle for ``claim_idle_ms``. An event whose handler fails ``max_attempts`` times
(counted by Redis across consumers) is parked with its error and acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import redis.asyncio
import sqlalchemy as sa
from google.protobuf.message import DecodeError, Message
from oms.events.v1.envelope_pb2 import EventEnvelope
from opentelemetry import trace
from redis.exceptions import RedisError, ResponseError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omslib.clock import Clock, SystemClock
from omslib.db.inserts import dialect_insert
from omslib.events.tables import ConsumerTables
from omslib.pausing import pause
from omslib.retry import Backoff
from omslib.telemetry import context_from_traceparent

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)

# Infrastructure failures: retried without counting towards parking.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RedisError,
    OSError,
    TimeoutError,
)


@dataclass(frozen=True)
class ReceivedEvent:
    """One stream entry, decoded."""

    stream: str
    entry_id: str
    envelope: EventEnvelope

    def unpack(self, cls: type[M]) -> M:
        message = cls()
        if not self.envelope.payload.Unpack(message):
            raise TypeError(f"payload is {self.envelope.payload.type_url}, not {cls.__name__}")
        return message


Handler = Callable[[AsyncSession, ReceivedEvent], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerSettings:
    batch_size: int = 100
    block_ms: int = 1000
    # A consumer's pending entries idle this long are taken over by another.
    claim_idle_ms: int = 30_000
    # This consumer's own failed entries are retried this often (seconds).
    retry_interval: float = 1.0
    max_attempts: int = 5
    max_backoff: float = 5.0
    # Handle a read batch in one transaction (one commit); on any failure the batch
    # is rolled back and replayed one transaction per event.
    group_commit: bool = True


class EventConsumer:
    """One consumer (``name``) in ``group`` over ``streams``; ``run()`` until cancelled."""

    def __init__(
        self,
        redis_client: redis.asyncio.Redis,
        sessions: async_sessionmaker[AsyncSession],
        tables: ConsumerTables,
        *,
        group: str,
        name: str,
        streams: Sequence[str],
        handlers: Mapping[str, Handler],
        settings: ConsumerSettings | None = None,
        clock: Clock | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._redis = redis_client
        self._sessions = sessions
        self._t = tables
        self.group = group
        self.name = name
        self.streams = list(streams)
        self._handlers = dict(handlers)
        self.settings = settings or ConsumerSettings()
        self._clock = clock or SystemClock()
        self._tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("omslib.events")
        self._claim_cursor = {s: "0-0" for s in self.streams}
        self._next_retry = 0.0
        self._stopping = False
        self._stop_requested = asyncio.Event()  # cuts a back-off pause short

    async def ensure_groups(self) -> None:
        """Create the group on every stream (from its start) unless it exists."""
        for stream in self.streams:
            try:
                await self._redis.xgroup_create(stream, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def stop(self) -> None:
        """Ask ``run()`` to return after the current batch (within ``block_ms``).

        Prefer this to cancelling the task: a batch cut short is safe (it is
        retried) but cancelling inside a database call can leave a connection behind.
        """
        self._stopping = True
        self._stop_requested.set()

    @property
    def _backoff(self) -> Backoff:
        """Pauses after failed polls double from 50 ms up to ``max_backoff``."""
        return Backoff(first=0.05, cap=self.settings.max_backoff)

    async def run(self) -> None:
        """Handle events until :meth:`stop` (then it may be run again)."""
        try:
            await self.ensure_groups()
            failures = 0
            while not self._stopping:
                try:
                    await self.poll_once()
                    failures = 0
                except TRANSIENT_ERRORS as exc:
                    failures += 1
                    log.warning("event consumer poll failed", extra={"error": repr(exc)})
                    await pause(self._backoff.seconds(failures), self._stop_requested)
        finally:
            self._stopping = False
            self._stop_requested.clear()

    async def purge_processed(self, older_than: datetime, limit: int = 1000) -> int:
        """Forget up to ``limit`` of this group's processed ids recorded before ``older_than``.

        Keep them at least as long as a duplicate can still arrive (stream length
        divided by the publication rate, plus the longest relay outage).
        """
        processed = self._t.processed
        c = processed.c
        ids = (
            sa.select(c.event_id)
            .where(c.consumer_group == self.group, c.processed_at < older_than)
            .limit(limit)
            .scalar_subquery()
        )
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                sa.delete(processed).where(c.consumer_group == self.group, c.event_id.in_(ids))
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def poll_once(self, block_ms: int | None = None) -> int:
        """Retry own failures when due, take over idle entries, then read new ones."""
        handled = 0
        loop_now = asyncio.get_running_loop().time()
        if loop_now >= self._next_retry:
            self._next_retry = loop_now + self.settings.retry_interval
            handled += await self._read({s: "0" for s in self.streams}, block_ms=None)
        handled += await self.claim_idle()
        block = self.settings.block_ms if block_ms is None else block_ms
        handled += await self._read({s: ">" for s in self.streams}, block_ms=block or None)
        return handled

    async def claim_idle(self) -> int:
        """Take over entries pending longer than ``claim_idle_ms`` (XAUTOCLAIM) and handle them."""
        handled = 0
        for stream in self.streams:
            reply = await self._redis.xautoclaim(
                stream,
                self.group,
                self.name,
                min_idle_time=self.settings.claim_idle_ms,
                start_id=self._claim_cursor[stream],
                count=self.settings.batch_size,
            )
            cursor, entries = reply[0], reply[1]
            self._claim_cursor[stream] = _text(cursor)
            handled += await self._handle_batch(stream, entries)
        return handled

    async def _read(self, ids: dict[Any, Any], block_ms: int | None) -> int:
        reply: Any = await self._redis.xreadgroup(
            self.group, self.name, ids, count=self.settings.batch_size, block=block_ms
        )
        handled = 0
        for stream_name, entries in reply or []:
            handled += await self._handle_batch(_text(stream_name), entries)
        return handled

    async def _handle_batch(self, stream: str, entries: Any) -> int:
        """Handle ``entries`` in order, then acknowledge them in one XACK."""
        done: list[str] = []
        todo: list[tuple[ReceivedEvent, bytes, Handler]] = []
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            if not fields:  # trimmed away while pending: nothing left to handle
                log.error(
                    "pending entry gone from stream", extra={"stream": stream, "id": entry_id}
                )
                done.append(entry_id)
                continue
            raw = fields.get(b"envelope") or b""
            try:
                envelope = EventEnvelope.FromString(raw)
            except DecodeError as exc:
                await self._park(stream, entry_id, EventEnvelope(), raw, 1, f"undecodable: {exc!r}")
                continue
            handler = self._handlers.get(envelope.type)
            if handler is None:
                done.append(entry_id)  # not for us
            else:
                todo.append((ReceivedEvent(stream, entry_id, envelope), raw, handler))
        try:
            if self.settings.group_commit and len(todo) > 1 and await self._apply_all(todo):
                done.extend(event.entry_id for event, _, _ in todo)
                todo = []
            for event, raw, handler in todo:
                if await self._handle_one(event, raw, handler):
                    done.append(event.entry_id)
        finally:
            if done:
                await self._redis.xack(stream, self.group, *done)
        return len(entries)

    async def _apply_all(self, todo: list[tuple[ReceivedEvent, bytes, Handler]]) -> bool:
        """Every handler of the batch in one transaction; False (rolled back) if one failed."""
        processed = self._t.processed
        now = self._clock.now()
        try:
            async with self._sessions() as session, session.begin():
                # One statement records the batch; it returns the ids not seen before.
                stmt = (
                    dialect_insert(session, processed)
                    .values(
                        [
                            {
                                "consumer_group": self.group,
                                "event_id": event_id,
                                "processed_at": now,
                            }
                            # Sorted: concurrent consumers lock the same order, no deadlock.
                            for event_id in sorted({e.envelope.event_id for e, _, _ in todo})
                        ]
                    )
                    .on_conflict_do_nothing(
                        index_elements=[processed.c.consumer_group, processed.c.event_id]
                    )
                    .returning(processed.c.event_id)
                )
                new = set((await session.execute(stmt)).scalars())
                for event, _, handler in todo:
                    if event.envelope.event_id not in new:
                        continue  # a duplicate: handled before, or earlier in this batch
                    new.discard(event.envelope.event_id)
                    with self._span(event):
                        await handler(session, event)
        except TRANSIENT_ERRORS:
            raise
        except Exception:  # one transaction each finds and counts the failing event
            return False
        return True

    async def _handle_one(self, event: ReceivedEvent, raw: bytes, handler: Handler) -> bool:
        """True when handled (or a duplicate), False when it failed and stays pending or parked."""
        try:
            async with self._sessions() as session, session.begin():
                with self._span(event):
                    await self._apply(session, handler, event)
        except TRANSIENT_ERRORS:
            raise  # leave it pending; the run loop backs off
        except Exception as exc:
            await self._failed(event, raw, exc)
            return False
        return True

    async def _apply(self, session: AsyncSession, handler: Handler, event: ReceivedEvent) -> None:
        processed = self._t.processed
        # First, so a concurrent duplicate waits on this row and then skips.
        stmt = (
            dialect_insert(session, processed)
            .values(
                consumer_group=self.group,
                event_id=event.envelope.event_id,
                processed_at=self._clock.now(),
            )
            .on_conflict_do_nothing(
                index_elements=[processed.c.consumer_group, processed.c.event_id]
            )
        )
        result = await session.execute(stmt)
        if getattr(result, "rowcount", 0) == 0:
            log.debug("duplicate event skipped", extra={"event_id": event.envelope.event_id})
            return
        await handler(session, event)

    async def _failed(self, event: ReceivedEvent, raw: bytes, exc: Exception) -> None:
        attempts = await self._deliveries(event.stream, event.entry_id)
        log.warning(
            "event handler failed",
            extra={
                "event_id": event.envelope.event_id,
                "type": event.envelope.type,
                "attempt": attempts,
                "error": repr(exc),
            },
        )
        if attempts >= self.settings.max_attempts:
            await self._park(event.stream, event.entry_id, event.envelope, raw, attempts, repr(exc))

    async def _deliveries(self, stream: str, entry_id: str) -> int:
        pending = await self._redis.xpending_range(
            stream, self.group, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1

    async def _park(
        self,
        stream: str,
        entry_id: str,
        envelope: EventEnvelope,
        raw: bytes,
        attempts: int,
        error: str,
    ) -> None:
        parked = self._t.parked
        async with self._sessions() as session, session.begin():
            await session.execute(
                dialect_insert(session, parked)
                .values(
                    consumer_group=self.group,
                    event_id=envelope.event_id or f"entry:{stream}:{entry_id}",
                    stream=stream,
                    entry_id=entry_id,
                    event_type=envelope.type,
                    attempts=attempts,
                    error=error[:4000],
                    envelope=raw,
                    parked_at=self._clock.now(),
                )
                .on_conflict_do_nothing(index_elements=[parked.c.consumer_group, parked.c.event_id])
            )
        log.error(
            "event parked",
            extra={"stream": stream, "entry_id": entry_id, "event_id": envelope.event_id},
        )
        await self._ack(stream, entry_id)

    async def _ack(self, stream: str, entry_id: str) -> None:
        await self._redis.xack(stream, self.group, entry_id)

    def _span(self, event: ReceivedEvent) -> Any:
        env = event.envelope
        links = []
        producer = trace.get_current_span(context_from_traceparent(env.traceparent))
        if producer.get_span_context().is_valid:
            links.append(trace.Link(producer.get_span_context()))
        return self._tracer.start_as_current_span(
            f"process {event.stream}",
            kind=trace.SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "redis",
                "messaging.destination.name": event.stream,
                "messaging.consumer.group.name": self.group,
                "messaging.message.id": env.event_id,
                "oms.event_type": env.type,
                "oms.aggregate": f"{env.aggregate_type}/{env.aggregate_id}",
            },
        )


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def parked_events(
    sessions: async_sessionmaker[AsyncSession], tables: ConsumerTables, group: str
) -> list[Mapping[str, Any]]:
    """The parked events of ``group``, oldest first (for operators and tests)."""
    parked = tables.parked
    query = sa.select(parked).where(parked.c.consumer_group == group).order_by(parked.c.parked_at)
    async with sessions() as session:
        return [dict(r._mapping) for r in (await session.execute(query)).all()]
