"""The recovery loop: finds unfinished transactions whose next attempt is due, claims
each with a lease (so replicas never drive the same one twice) and resumes it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omslib.clock import Clock
from omslib.tcc.store import TransactionStore

log = logging.getLogger("omslib.tcc")


class Recovery:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: TransactionStore,
        clock: Clock,
        *,
        owner: str,
        lease: timedelta,
        resume: Callable[[str], Awaitable[None]],
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._clock = clock
        self._owner = owner
        self._lease = lease
        self._resume = resume

    async def once(self, *, limit: int = 50) -> int:
        """Claim due unfinished transactions and resume each; how many were resumed."""
        async with self._sessions() as session:
            gids = await self._store.due(session, now=self._clock.now(), limit=limit)
        driven = 0
        for gid in gids:
            if not await self._claim(gid):
                continue  # another replica holds it
            try:
                await self._resume(gid)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tcc recovery of %s failed; it is retried later", gid)
            driven += 1
        return driven

    async def run(self, *, every: timedelta, limit: int = 50) -> None:
        """Forever: ``once``, pausing ``every`` when it found less than a full batch."""
        while True:
            try:
                driven = await self.once(limit=limit)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tcc recovery round failed")
                driven = 0
            if driven < limit:
                await asyncio.sleep(every.total_seconds())

    async def _claim(self, gid: str) -> bool:
        async with self._sessions() as session:
            now = self._clock.now()
            ok = await self._store.claim(
                session, gid, owner=self._owner, now=now, until=now + self._lease
            )
            await session.commit()
            return ok
