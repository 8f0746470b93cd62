"""The participant barrier: (gid, branch_id, op) rows written insert-if-absent.

REFUSED and REPEAT answers write nothing.

Call the guard inside the same local transaction as the business change and act
on its answer; commit both together. No ``SELECT ... FOR UPDATE``: on
PostgreSQL a racing insert of the same key waits for the first writer and then
sees the conflict; on SQLite writers are serialised.

The "try" row carries the branch's decision in ``reason``: ``try`` (tried,
undecided), ``confirm``, or the cancel reason (``cancel``, ``expire``...). Confirm
and Cancel move it with one conditional UPDATE, so they can never both win.

- ``guard_try``: PROCEED (do the Try), REPEAT (answer as before), REFUSED (a
  cancel came first: no hanging).
- ``guard_confirm``: PROCEED, REPEAT, REFUSED (cancelled, or never tried).
- ``guard_cancel``: PROCEED (undo the Try), REPEAT, EMPTY (no Try was seen:
  nothing to undo, and the Try row is now taken so a late Try is refused),
  REFUSED (already confirmed).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omslib.clock import Clock
from omslib.db.inserts import insert_if_absent

log = logging.getLogger(__name__)

TRY, CONFIRM, CANCEL = "try", "confirm", "cancel"


class Guard(enum.Enum):
    PROCEED = "PROCEED"
    REPEAT = "REPEAT"
    EMPTY = "EMPTY"
    REFUSED = "REFUSED"


class Barrier:
    def __init__(self, table: sa.Table) -> None:
        self.table = table
        c = table.c
        key = sa.and_(
            c.gid == sa.bindparam("w_gid"),
            c.branch_id == sa.bindparam("w_branch_id"),
            c.op == sa.bindparam("w_op"),
        )
        self._select_reason = sa.select(c.reason).where(key)
        self._decide_try = (
            sa.update(table)
            .where(key, c.reason == TRY)
            .values(reason=sa.bindparam("v_reason"), created_at=sa.bindparam("v_now"))
        )

    async def insert(
        self,
        session: AsyncSession,
        gid: str,
        branch_id: str,
        op: str,
        *,
        reason: str,
        now: datetime,
    ) -> bool:
        return await insert_if_absent(
            session,
            self.table,
            {"gid": gid, "branch_id": branch_id, "op": op, "reason": reason, "created_at": now},
        )

    async def reason_of(
        self, session: AsyncSession, gid: str, branch_id: str, op: str
    ) -> str | None:
        params = {"w_gid": gid, "w_branch_id": branch_id, "w_op": op}
        row = (await session.execute(self._select_reason, params)).first()
        return None if row is None else str(row.reason)

    async def _decide(
        self, session: AsyncSession, gid: str, branch_id: str, decision: str, now: datetime
    ) -> bool:
        """Turn the Try row's mark from ``try`` to ``decision``; True when this call did it.

        One conditional UPDATE on one row: a concurrent Confirm and Cancel of the same
        branch contend on it, so exactly one of them wins (PostgreSQL re-checks the
        condition after waiting for the other writer; SQLite serialises writers).
        """
        params = {
            "w_gid": gid,
            "w_branch_id": branch_id,
            "w_op": TRY,
            "v_reason": decision,
            "v_now": now,
        }
        result = await session.execute(self._decide_try, params)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def guard_try(
        self, session: AsyncSession, gid: str, branch_id: str, *, now: datetime
    ) -> Guard:
        if await self.insert(session, gid, branch_id, TRY, reason=TRY, now=now):
            return Guard.PROCEED
        mark = await self.reason_of(session, gid, branch_id, TRY)
        return Guard.REPEAT if mark in (TRY, CONFIRM) else Guard.REFUSED

    async def guard_confirm(
        self, session: AsyncSession, gid: str, branch_id: str, *, now: datetime
    ) -> Guard:
        for _ in range(3):
            if await self._decide(session, gid, branch_id, CONFIRM, now):
                await self.insert(session, gid, branch_id, CONFIRM, reason=CONFIRM, now=now)
                return Guard.PROCEED
            mark = await self.reason_of(session, gid, branch_id, TRY)
            if mark != TRY:
                return Guard.REPEAT if mark == CONFIRM else Guard.REFUSED
            # The Try committed between our UPDATE and our read (PostgreSQL): decide again.
        raise RuntimeError(f"barrier for {gid}/{branch_id} kept changing")

    async def guard_cancel(
        self,
        session: AsyncSession,
        gid: str,
        branch_id: str,
        *,
        now: datetime,
        reason: str = CANCEL,
    ) -> Guard:
        """``reason`` records who cancelled (e.g. ``"expire"`` for a backstop release)."""
        for _ in range(3):
            if await self._decide(session, gid, branch_id, reason, now):
                await self.insert(session, gid, branch_id, CANCEL, reason=reason, now=now)
                return Guard.PROCEED
            mark = await self.reason_of(session, gid, branch_id, TRY)
            if mark == CONFIRM:
                return Guard.REFUSED
            if mark == TRY:
                continue  # the Try committed between our UPDATE and our read: decide again
            if mark is not None:
                return Guard.REPEAT
            # No Try seen: take its row so a late Try is refused (empty compensation).
            if await self.insert(session, gid, branch_id, TRY, reason=reason, now=now):
                await self.insert(session, gid, branch_id, CANCEL, reason=reason, now=now)
                return Guard.EMPTY
            # A Try committed in between: decide again.
        raise RuntimeError(f"barrier for {gid}/{branch_id} kept changing")

    async def purge(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        older_than: datetime,
        batch_size: int = 500,
        max_batches: int | None = None,
    ) -> int:
        """Delete rows created before ``older_than``, ``batch_size`` at a time; rows deleted."""
        c = self.table.c
        total = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            async with sessions() as session:
                keys = (
                    await session.execute(
                        sa.select(c.gid, c.branch_id, c.op)
                        .where(c.created_at < older_than)
                        .order_by(c.created_at)
                        .limit(batch_size)
                    )
                ).all()
                if not keys:
                    break
                await session.execute(
                    sa.delete(self.table).where(
                        sa.tuple_(c.gid, c.branch_id, c.op).in_([tuple(k) for k in keys])
                    )
                )
                await session.commit()
            total += len(keys)
            batches += 1
            if len(keys) < batch_size:
                break
            await asyncio.sleep(0)  # let other work in between batches
        return total


async def run_purge_loop(
    barrier: Barrier,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    keep: timedelta,
    every: timedelta,
    batch_size: int = 500,
) -> None:
    """Background job: purge rows older than ``keep`` every ``every``, forever."""
    while True:
        try:
            deleted = await barrier.purge(
                sessions, older_than=clock.now() - keep, batch_size=batch_size
            )
            if deleted:
                log.info("tcc barrier purge deleted %d rows", deleted)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("tcc barrier purge failed; trying again later")
        await asyncio.sleep(every.total_seconds())
