"""Retention of refused pushes: rows older than the configured days are deleted, a small
batch per transaction so the purge never holds a long lock or a large transaction.

Every replica may run it: deleting the same old rows twice is harmless, and each batch
selects what is still there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from omslib.clock import Clock
from omslib.db import UnitOfWork

from oms_gateway.adapters.repository import RejectedPushRepository

log = logging.getLogger(__name__)


class RejectedRetention:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        keep: timedelta,
        every_seconds: float,
        batch_size: int = 500,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._keep = keep
        self._every = every_seconds
        self._batch = batch_size
        self._task: asyncio.Task[None] | None = None

    async def purge(self) -> int:
        """Delete every refused push older than the retention; how many were deleted."""
        cutoff = self._clock.now() - self._keep
        total = 0
        while True:
            uow = self._uow_factory()
            async with uow:
                deleted = await RejectedPushRepository(uow.session).delete_older_than(
                    cutoff, self._batch
                )
                await uow.commit()
            total += deleted
            if deleted < self._batch:
                return total
            await asyncio.sleep(0)  # let intake run between batches

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-rejected-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                deleted = await self.purge()
                if deleted:
                    log.info("refused pushes past retention deleted", extra={"deleted": deleted})
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be briefly away: next round
                log.warning("refused-push purge failed", extra={"error": repr(exc)})
            await asyncio.sleep(self._every)
