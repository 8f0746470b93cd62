"""The relay: publishes committed outbox rows to Redis Streams, in order per aggregate.

Each pass claims whole aggregates (a lease row per aggregate,
``omslib.db.leases.LeaseRows``: absent rows inserted, expired ones taken over),
reads their unsent rows in order, XADDs them in one pipeline, marks them sent and
releases the leases. Several replicas can run at once: an aggregate is published
by one replica at a time, so its events reach the stream in sequence order. A
crash after XADD and before marking sent publishes those events again later (at
least once; consumers dedupe by event id).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio
import sqlalchemy as sa
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omslib.clock import Clock, SystemClock
from omslib.ids import new_id
from omslib.outbox.tables import OutboxTables, aggregate_leases
from omslib.outbox.writer import OutboxNotifier
from omslib.pausing import pause
from omslib.retry import Backoff
from omslib.settings import CommonSettings

log = logging.getLogger(__name__)

AggregateKey = tuple[str, str]


@dataclass(frozen=True)
class RelaySettings:
    """Tuning of one relay; the defaults suit a service replica."""

    batch_size: int = 500
    max_aggregates: int = 200
    lease: timedelta = timedelta(seconds=30)
    # The sweep catches events committed by other replicas or missed wake-ups.
    sweep_interval: float = 1.0
    stream_maxlen: int = 100_000
    # Approximate trimming (MAXLEN ~) is what Redis does cheaply; exact is for tests.
    approximate_trim: bool = True
    publish_timeout: float = 10.0
    # Pauses after a failed pass double from min_backoff up to max_backoff.
    min_backoff: float = 0.05
    max_backoff: float = 5.0
    retention: timedelta = timedelta(days=1)
    purge_interval: timedelta = timedelta(minutes=10)
    purge_batch: int = 1000


def relay_settings(common: CommonSettings) -> RelaySettings:
    """A service replica's relay tuning from its settings (``OMS_EVENTS_STREAM_MAXLEN``)."""
    return RelaySettings(stream_maxlen=common.events_stream_maxlen)


@dataclass(frozen=True)
class PendingEvent:
    id: int
    event_id: str
    stream: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    sequence: int
    envelope: bytes


AfterPublish = Callable[[Sequence[PendingEvent]], Awaitable[None]]


def default_owner() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{new_id()[-8:]}"


def stream_fields(event: PendingEvent) -> dict[Any, Any]:
    """The fields of a stream entry: the serialized envelope plus a few for humans and tools."""
    return {
        "event_id": event.event_id,
        "type": event.event_type,
        "aggregate": f"{event.aggregate_type}/{event.aggregate_id}",
        "sequence": event.sequence,
        "envelope": event.envelope,
    }


class OutboxRelay:
    """Moves committed outbox rows to Redis; ``run()`` until cancelled, or ``publish_pending()``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: OutboxTables,
        redis_client: redis.asyncio.Redis,
        *,
        notifier: OutboxNotifier | None = None,
        settings: RelaySettings | None = None,
        clock: Clock | None = None,
        owner: str | None = None,
        after_publish: AfterPublish | None = None,
    ) -> None:
        self._sessions = sessions
        self._t = tables
        self._leases = aggregate_leases(tables.leases)
        self._redis = redis_client
        self.notifier = notifier or OutboxNotifier()
        self.settings = settings or RelaySettings()
        self._clock = clock or SystemClock()
        self.owner = (owner or default_owner())[:64]
        # A test seam: runs after XADD and before the rows are marked sent.
        self._after_publish = after_publish
        self._next_purge: datetime | None = None
        self.failed_passes = 0
        self._stopping = False
        self._stop_requested = asyncio.Event()  # cuts a back-off pause short

    @property
    def _backoff(self) -> Backoff:
        """Pauses after failed passes double from ``min_backoff`` up to ``max_backoff``."""
        return Backoff(first=self.settings.min_backoff, cap=self.settings.max_backoff)

    async def run(self) -> None:
        """Publish whenever notified, and at least every ``sweep_interval``; back off on errors."""
        try:
            await self._run()
        finally:
            self._stopping = False
            self._stop_requested.clear()  # stopped: it may be run again
            # Stopping (cancelled) at any await may leave leases behind; free them now
            # rather than make other replicas wait for them to expire.
            await self.release_all()

    async def release_all(self) -> None:
        """Drop every lease this relay holds (its aggregates go to other replicas at once)."""
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(self._leases.release(owner=self.owner))
        except SQLAlchemyError as exc:  # they expire on their own
            log.warning("could not release outbox leases", extra={"error": repr(exc)})

    def stop(self) -> None:
        """Ask ``run()`` to return after the current pass (preferred to cancelling it)."""
        self._stopping = True
        self.notifier.notify()
        self._stop_requested.set()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                published = await self.publish_pending()
                await self._maybe_purge()
            except (RedisError, OSError, SQLAlchemyError, TimeoutError) as exc:
                self.failed_passes += 1
                failures += 1
                backoff = self._backoff.seconds(failures)
                log.warning(
                    "outbox relay pass failed; events stay in the outbox",
                    extra={"error": repr(exc), "retry_in_s": backoff},
                )
                await pause(backoff, self._stop_requested)
                continue
            failures = 0
            if published >= self.settings.batch_size:
                await asyncio.sleep(0)  # more may be waiting: go again at once
                continue
            await self.notifier.wait(self.settings.sweep_interval)

    async def publish_pending(self) -> int:
        """One pass: claim, publish, mark sent, release. Returns the number of events sent."""
        now = self._clock.now()
        candidates = await self._pending_aggregates(now)
        if not candidates:
            return 0
        lease_until = now + self.settings.lease
        claimed = await self._claim(candidates, now, lease_until)
        if not claimed:
            return 0
        try:
            events = await self._load(claimed)
            if not events:
                return 0
            if self._clock.now() >= lease_until:
                return 0  # too slow: another replica may own these aggregates now
            await asyncio.wait_for(self._xadd(events), self.settings.publish_timeout)
            if self._after_publish is not None:
                await self._after_publish(events)
            await self._mark_sent([e.id for e in events])
            return len(events)
        finally:
            await self._release(claimed)

    async def _pending_aggregates(self, now: datetime) -> list[AggregateKey]:
        """Aggregates among the oldest unsent rows that no live lease covers."""
        c, leases = self._t.outbox.c, self._t.leases
        # Bounded by the (sent_at, id) index, however long the backlog is.
        head = (
            sa.select(c.id, c.aggregate_type, c.aggregate_id)
            .where(c.sent_at.is_(None))
            .order_by(c.id)
            .limit(self.settings.batch_size)
            .subquery()
        )
        first = sa.func.min(head.c.id).label("first")
        query = (
            sa.select(head.c.aggregate_type, head.c.aggregate_id, first)
            .select_from(
                head.outerjoin(
                    leases,
                    sa.and_(
                        leases.c.aggregate_type == head.c.aggregate_type,
                        leases.c.aggregate_id == head.c.aggregate_id,
                    ),
                )
            )
            .where(self._leases.lease.expired(now))  # no lease row, or one run out
            .group_by(head.c.aggregate_type, head.c.aggregate_id)
            .order_by(first)
            .limit(self.settings.max_aggregates)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [(r.aggregate_type, r.aggregate_id) for r in rows]

    async def _claim(
        self, candidates: list[AggregateKey], now: datetime, until: datetime
    ) -> list[AggregateKey]:
        async with self._sessions() as session, session.begin():
            claimed = await self._leases.acquire(
                session, candidates, owner=self.owner, now=now, until=until
            )
        return [(t, i) for t, i in claimed]

    async def _load(self, claimed: list[AggregateKey]) -> list[PendingEvent]:
        c = self._t.outbox.c
        # Within an aggregate, id order is sequence order: its writers take turns
        # on the sequence row, so a later event is also inserted later.
        query = (
            sa.select(
                c.id,
                c.event_id,
                c.stream,
                c.event_type,
                c.aggregate_type,
                c.aggregate_id,
                c.sequence,
                c.envelope,
            )
            .where(c.sent_at.is_(None), sa.tuple_(c.aggregate_type, c.aggregate_id).in_(claimed))
            .order_by(c.id)
            .limit(self.settings.batch_size)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [PendingEvent(*row) for row in rows]

    async def _xadd(self, events: Sequence[PendingEvent]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for event in events:
            pipe.xadd(
                event.stream,
                stream_fields(event),
                maxlen=self.settings.stream_maxlen,
                approximate=self.settings.approximate_trim,
            )
        await pipe.execute()

    async def _mark_sent(self, ids: list[int]) -> None:
        outbox = self._t.outbox
        async with self._sessions() as session, session.begin():
            await session.execute(
                sa.update(outbox).where(outbox.c.id.in_(ids)).values(sent_at=self._clock.now())
            )

    async def _release(self, claimed: list[AggregateKey]) -> None:
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(self._leases.release(owner=self.owner, keys=claimed))
        except SQLAlchemyError as exc:  # the leases expire on their own
            log.warning("could not release outbox leases", extra={"error": repr(exc)})

    async def _maybe_purge(self) -> None:
        now = self._clock.now()
        if self._next_purge is not None and now < self._next_purge:
            return
        self._next_purge = now + self.settings.purge_interval
        await self.purge_sent(now - self.settings.retention)
        await self.purge_expired_leases(now)

    async def purge_expired_leases(self, now: datetime) -> None:
        """Delete leases run out at ``now``: those of relays that died holding them, on
        aggregates with nothing left to publish (any other is taken over at its next claim)."""
        async with self._sessions() as session, session.begin():
            await session.execute(self._leases.purge_expired(now))

    async def purge_sent(self, older_than: datetime) -> int:
        """Delete up to ``purge_batch`` rows sent before ``older_than``; returns how many."""
        outbox = self._t.outbox
        ids = (
            sa.select(outbox.c.id)
            .where(outbox.c.sent_at < older_than)
            .order_by(outbox.c.id)
            .limit(self.settings.purge_batch)
            .scalar_subquery()
        )
        async with self._sessions() as session, session.begin():
            result = await session.execute(sa.delete(outbox).where(outbox.c.id.in_(ids)))
        return int(getattr(result, "rowcount", 0) or 0)
