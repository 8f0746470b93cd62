"""Channel stock sync in the inventory process: AvailabilityChanged -> shown stock -> channels.

A consumer (group ``inventory-channel-sync``) feeds ``ChannelStockSync`` from
``oms.inventory``; the sync coalesces changes and POSTs them to each channel's
URL. Its state is in memory: whenever it starts it pushes a full refresh read from
inventory's own tables (the same snapshot the periodic refresh reads), so a
restart heals.

Only one replica syncs at a time: the one holding the ``channel-sync`` lease
(``NamedLease`` in the outbox's lease table). Two replicas splitting the event
stream between them could otherwise each push the value it last saw, and the
older one could land last. The others wait; when the holder stops or dies, one of
them takes over within the lease's length, with a full refresh, and continues the
consumer group where it was (entries the dead holder had not acknowledged are
claimed after the consumer's idle timeout).
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
from omslib.clock import Clock
from omslib.events import ConsumerSettings, EventConsumer
from omslib.outbox import STREAM_INVENTORY
from omslib.outbox.named_lease import NamedLease
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_inventory.adapters import orm
from oms_inventory.channel_sync.pusher import HttpJsonPusher
from oms_inventory.channel_sync.sync import ChannelStockSync, PushFailure, SyncSettings
from oms_inventory.config import Settings
from oms_inventory.service_layer.channel_snapshot import AvailabilitySnapshot

GROUP = "inventory-channel-sync"

log = logging.getLogger(__name__)


def consumer_name() -> str:
    """Unique per instance (the lease's owner too): replicas never share pending entries
    or a lease by accident, even two in one process. At most 64 characters."""
    return f"{GROUP}-{socket.gethostname()[:20]}-{os.getpid()}-{os.urandom(3).hex()}"


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
    """Channel sync in this replica while it holds the lease; ``start()``, then ``await stop()``."""

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
        self._redis = redis_client
        self._sessions = sessions
        self._consumer_settings = consumer_settings
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
        self._name = consumer_name()
        self.lease = NamedLease(
            sessions,
            orm.outbox.leases,
            GROUP,
            self._name,
            ttl=timedelta(seconds=settings.channel_sync_lease_seconds),
            clock=clock,
            kind="channel-sync",
        )
        #: The consumer of the current term (None while another replica syncs).
        self.consumer: EventConsumer | None = None
        self._stopping = asyncio.Event()
        self._term_over = asyncio.Event()
        self._term: list[asyncio.Task[None]] = []
        self._leader: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """Whether this replica is the one syncing now."""
        return bool(self._term)

    def start(self) -> None:
        self._stopping.clear()
        self._leader = asyncio.create_task(self._hold_the_lease(), name="channel-sync-lease")

    def signal_stop(self) -> None:
        """Ask the loops to finish their current step (nothing is cancelled)."""
        self._stopping.set()
        self._end_term()

    async def stop(self) -> None:
        self.signal_stop()
        try:
            if self._leader is not None:
                await asyncio.gather(self._leader, return_exceptions=True)
        finally:
            self._leader = None
            await self._http.aclose()

    async def _hold_the_lease(self) -> None:
        renew_every = self.lease.ttl.total_seconds() / 3
        try:
            while not self._stopping.is_set():
                held = await self.lease.hold()
                if held and not self.active:
                    log.info("channel stock sync: this replica syncs now")
                    self._begin_term()
                elif not held and self.active:
                    log.warning("channel stock sync: lease lost, another replica syncs now")
                    await self._finish_term()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), renew_every)
        finally:
            await self._finish_term()
            await self.lease.release()

    def _begin_term(self) -> None:
        self._term_over.clear()
        self.consumer = EventConsumer(
            self._redis,
            self._sessions,
            orm.events_in,
            group=GROUP,
            name=self._name,
            streams=[STREAM_INVENTORY],
            handlers={"AvailabilityChanged": self.sync.handle_event},
            settings=self._consumer_settings,
        )
        # Start from the truth: what the previous holder pushed is unknown here.
        self.sync.request_full_refresh()
        self._term = [
            asyncio.create_task(self.consumer.run(), name="channel-sync-consumer"),
            asyncio.create_task(self._run_sync(), name="channel-sync-push"),
        ]

    def _end_term(self) -> None:
        if self.consumer is not None:
            self.consumer.stop()
        self._term_over.set()

    async def _finish_term(self) -> None:
        self._end_term()
        term, self._term, self.consumer = self._term, [], None
        for result in await asyncio.gather(*term, return_exceptions=True):
            if isinstance(result, Exception):
                log.error("channel stock sync failed while stopping", exc_info=result)

    async def _run_sync(self) -> None:
        while not self._term_over.is_set():
            try:
                await self.sync.step()
            except Exception:  # the sync reports push failures itself; this is a bug
                log.exception("channel stock sync step failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._term_over.wait(), self.sync.settings.tick)
