"""Channel stock sync in the inventory process: AvailabilityChanged -> shown stock -> channels.

A consumer (group ``inventory-channel-sync``) feeds ``ChannelStockSync`` from
``oms.inventory``; the sync coalesces changes and POSTs them to each channel's
URL. Its state is in memory: at start it pushes a full refresh read from
inventory's own tables (the same snapshot the periodic refresh reads), so a
restart heals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import timedelta

import httpx
import redis.asyncio
from omslib.channel_sync import ChannelStockSync, HttpJsonPusher, PushFailure, SyncSettings
from omslib.clock import Clock
from omslib.events import ConsumerSettings, EventConsumer
from omslib.outbox import STREAM_INVENTORY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_inventory.adapters import orm
from oms_inventory.config import Settings
from oms_inventory.service_layer.channel_snapshot import AvailabilitySnapshot

GROUP = "inventory-channel-sync"

log = logging.getLogger(__name__)


def consumer_name() -> str:
    """Unique per process: replicas never share a consumer's pending entries by accident."""
    return f"{GROUP}-{socket.gethostname()[:32]}-{os.getpid()}"


def report_failure(failure: PushFailure) -> None:
    log.warning(
        "channel %s refused a stock push (%s, %d SKUs, attempt %d): %s; "
        "it is retried with the latest values",
        failure.channel,
        "full refresh" if failure.full else "changes",
        len(failure.skus),
        failure.attempts,
        failure.error,
    )


class ChannelSync:
    """The consumer, the sync loop and the HTTP client; ``start()``, then ``await stop()``."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        redis_client: redis.asyncio.Redis,
        snapshot: AvailabilitySnapshot,
        *,
        clock: Clock,
        consumer_settings: ConsumerSettings | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(timeout=settings.channel_sync_timeout_seconds)
        self._snapshot = snapshot
        self.sync = ChannelStockSync(
            settings.channel_policies(),
            HttpJsonPusher(self._http, settings.channel_urls()),
            clock=clock,
            settings=SyncSettings(
                coalesce=timedelta(seconds=settings.channel_sync_coalesce_seconds),
                full_refresh=timedelta(seconds=settings.channel_sync_full_refresh_seconds),
            ),
            snapshot=snapshot,
            on_failure=report_failure,
        )
        self.consumer = EventConsumer(
            redis_client,
            sessions,
            orm.events_in,
            group=GROUP,
            name=consumer_name(),
            streams=[STREAM_INVENTORY],
            handlers={"AvailabilityChanged": self.sync.handle_event},
            settings=consumer_settings,
        )
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self.consumer.run()),
            asyncio.create_task(self._run_sync()),
        ]

    def signal_stop(self) -> None:
        """Ask both loops to finish their current step (nothing is cancelled)."""
        self.consumer.stop()
        self._stopping.set()

    async def stop(self) -> None:
        self.signal_stop()
        try:
            for result in await asyncio.gather(*self._tasks, return_exceptions=True):
                if isinstance(result, Exception):
                    log.error("channel stock sync failed while stopping", exc_info=result)
        finally:
            self._tasks = []
            await self._http.aclose()

    async def _run_sync(self) -> None:
        await self._seed()
        while not self._stopping.is_set():
            try:
                await self.sync.step()
            except Exception:  # the sync reports push failures itself; this is a bug
                log.exception("channel stock sync step failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.sync.settings.tick)

    async def _seed(self) -> None:
        """Start from the truth: a full refresh read from inventory's tables, pushed at once."""
        self.sync.request_full_refresh()
