"""This participant's TCC barrier: the generic ``omslib.tcc.Barrier`` on its own table."""

from __future__ import annotations

from datetime import datetime

from omslib.tcc import Barrier, Guard
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.adapters.orm import tcc_barrier
from oms_inventory.domain.reservation import BranchKey

BARRIER = Barrier(tcc_barrier)


class BarrierRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def guard_try(self, branch: BranchKey, *, now: datetime) -> Guard:
        return await BARRIER.guard_try(self._session, branch.gid, branch.branch_id, now=now)

    async def guard_confirm(self, branch: BranchKey, *, now: datetime) -> Guard:
        return await BARRIER.guard_confirm(self._session, branch.gid, branch.branch_id, now=now)

    async def guard_cancel(self, branch: BranchKey, *, now: datetime, reason: str) -> Guard:
        return await BARRIER.guard_cancel(
            self._session, branch.gid, branch.branch_id, now=now, reason=reason
        )
