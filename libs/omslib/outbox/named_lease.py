"""One holder at a time, across replicas, for a named piece of work.

Some background work must run in one process of a service only, however many
replicas run: channel stock sync, for one, where two replicas pushing from
different halves of the event stream could leave a channel showing an older value
than the newest. ``NamedLease.hold()`` acquires the lease or renews it; call it
every ``ttl / 3`` and do the work only while it answers True.

The lease is a row of the service's ``outbox_leases`` table under its own
``aggregate_type`` (the relay only ever claims aggregates that have unsent events,
so the two never meet), so no service needs a new table for it. Replicas' clocks
are trusted to agree within a fraction of ``ttl``, as for the relay's leases.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omslib.clock import Clock, SystemClock
from omslib.db.inserts import dialect_insert

log = logging.getLogger(__name__)


class NamedLease:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        leases: sa.Table,
        name: str,
        owner: str,
        *,
        ttl: timedelta,
        clock: Clock | None = None,
        kind: str = "named-lease",
    ) -> None:
        self._sessions = sessions
        self._leases = leases
        self._key = {"aggregate_type": kind, "aggregate_id": name}
        self.owner = owner
        self.ttl = ttl
        self._clock = clock or SystemClock()
        #: Until when this process holds the lease (None: it does not).
        self.held_until: datetime | None = None

    async def hold(self) -> bool:
        """Acquire the lease, or renew it if held; whether this process holds it now.

        If the database cannot be reached, the answer is True only while the lease
        last granted has not run out: another replica cannot take it before then.
        """
        now = self._clock.now()
        until = now + self.ttl
        try:
            held = await self._acquire_or_renew(now, until)
        except Exception as exc:  # database unreachable: keep what is certainly ours
            log.warning("could not renew lease", extra={"lease": self._key, "error": repr(exc)})
            if self.held_until is not None and now >= self.held_until:
                self.held_until = None
            return self.held_until is not None
        self.held_until = until if held else None
        return held

    async def release(self) -> None:
        """Give the lease up at once (another replica may take it at its next ``hold``)."""
        self.held_until = None
        c = self._leases.c
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    sa.delete(self._leases).where(self._mine(), c.owner == self.owner)
                )
        except Exception as exc:  # it runs out by itself after ttl
            log.warning("could not release lease", extra={"lease": self._key, "error": repr(exc)})

    async def _acquire_or_renew(self, now: datetime, until: datetime) -> bool:
        c = self._leases.c
        async with self._sessions() as session, session.begin():
            renewed = await session.execute(
                sa.update(self._leases)
                .where(self._mine(), sa.or_(c.owner == self.owner, c.lease_until < now))
                .values(owner=self.owner, lease_until=until)
            )
            if renewed.rowcount == 1:  # type: ignore[attr-defined]
                return True
            inserted = await session.execute(
                dialect_insert(session, self._leases)
                .values(**self._key, owner=self.owner, lease_until=until)
                .on_conflict_do_nothing(index_elements=[c.aggregate_type, c.aggregate_id])
                .returning(c.owner)
            )
            return inserted.first() is not None

    def _mine(self) -> sa.ColumnElement[bool]:
        c = self._leases.c
        return sa.and_(
            c.aggregate_type == self._key["aggregate_type"],
            c.aggregate_id == self._key["aggregate_id"],
        )
