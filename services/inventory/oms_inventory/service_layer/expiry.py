"""Backstop jobs of the participant: expire reservations, purge old barrier rows.

A reservation still RESERVED after its deadline plus a grace period is released
with ``expired=True``: the barrier's cancel row is written (mark ``expire``), so a
late Confirm is refused with RESERVATION_RELEASED and orders sees it, never a
silent oversell.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from oms_inventory.service_layer.deps import Deps
from oms_inventory.service_layer.reservations import ReservationService

log = logging.getLogger(__name__)


class ExpiryJob:
    def __init__(
        self,
        deps: Deps,
        reservations: ReservationService,
        *,
        grace: timedelta,
        batch_size: int = 100,
    ) -> None:
        self._deps = deps
        self._reservations = reservations
        self._grace = grace
        self._batch = batch_size

    async def run_once(self) -> int:
        """Release every reservation past deadline + grace; how many were released."""
        released = 0
        while True:
            cutoff = self._deps.clock.now() - self._grace
            async with self._deps.uow() as uow:
                due = await uow.reservations.due_for_expiry(cutoff, self._batch)
            for branch in due:
                try:
                    if await self._reservations.release(branch, expired=True) is not None:
                        released += 1
                except Exception:  # confirmed meanwhile, contention: next round decides
                    log.info("expiry of %s/%s skipped", branch.gid, branch.branch_id)
            if len(due) < self._batch:
                return released

    async def run_forever(self, every: timedelta) -> None:
        while True:
            try:
                count = await self.run_once()
                if count:
                    log.warning("expiry backstop released %d reservations", count)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("expiry backstop round failed")
            await asyncio.sleep(every.total_seconds())
