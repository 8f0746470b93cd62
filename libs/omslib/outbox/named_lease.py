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
from omslib.outbox.tables import aggregate_leases

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
        self._leases = aggregate_leases(leases)
        self._key = (kind, name)
        self._labels = {"aggregate_type": kind, "aggregate_id": name}  # for the logs
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
            async with self._sessions() as session, session.begin():
                held = bool(
                    await self._leases.acquire(
                        session, [self._key], owner=self.owner, now=now, until=until
                    )
                )
        except Exception as exc:  # database unreachable: keep what is certainly ours
            log.warning("could not renew lease", extra={"lease": self._labels, "error": repr(exc)})
            if self.held_until is not None and now >= self.held_until:
                self.held_until = None
            return self.held_until is not None
        self.held_until = until if held else None
        return held

    async def release(self) -> None:
        """Give the lease up at once (another replica may take it at its next ``hold``)."""
        self.held_until = None
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(self._leases.release(owner=self.owner, keys=[self._key]))
        except Exception as exc:  # it runs out by itself after ttl
            log.warning(
                "could not release lease", extra={"lease": self._labels, "error": repr(exc)}
            )
