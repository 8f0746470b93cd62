"""Channel stock sync: keeps every channel's shown stock equal to what it may sell.

Changes are coalesced: the first change of a burst starts a ``coalesce`` window;
when it ends, each channel gets one push with the latest value of every SKU that
changed. A full refresh (every SKU) goes out every ``full_refresh`` (at most 5
minutes), so a missed update heals itself. Failed pushes stay due, are retried
with growing delays, and are reported through ``on_failure``.

State lives in memory; the ``snapshot`` callable (e.g. reading the inventory
database) gives the truth for full refreshes after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from oms.events.v1.inventory_events_pb2 import AvailabilityChanged
from omslib.clock import Clock, SystemClock
from omslib.events.consumer import ReceivedEvent
from omslib.retry import Backoff
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.channel_sync.policy import ChannelPolicy
from oms_inventory.channel_sync.pusher import StockPusher, StockUpdate

log = logging.getLogger(__name__)

Snapshot = Callable[[], Awaitable[Mapping[str, int]]]


@dataclass(frozen=True)
class SyncSettings:
    coalesce: timedelta = timedelta(seconds=1)
    full_refresh: timedelta = timedelta(minutes=5)
    retry_initial: timedelta = timedelta(seconds=1)
    retry_max: timedelta = timedelta(seconds=60)
    # How often run() looks at the clock when nothing wakes it (seconds, real time).
    tick: float = 0.2

    def __post_init__(self) -> None:
        if self.full_refresh > timedelta(minutes=5):
            raise ValueError("full_refresh must be at most 5 minutes")


@dataclass(frozen=True)
class PushFailure:
    channel: str
    full: bool
    skus: tuple[str, ...]
    attempts: int
    error: str


@dataclass
class _Channel:
    policy: ChannelPolicy
    sent: dict[str, int] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    dirty_since: datetime | None = None
    next_full: datetime | None = None
    full_due: bool = False
    failures: int = 0
    retry_at: datetime | None = None


class ChannelStockSync:
    """Feed it availability (``apply`` or the ``handle_event`` consumer handler); ``run()`` it."""

    def __init__(
        self,
        policies: Sequence[ChannelPolicy],
        pusher: StockPusher,
        *,
        clock: Clock | None = None,
        settings: SyncSettings | None = None,
        snapshot: Snapshot | None = None,
        on_failure: Callable[[PushFailure], None] | None = None,
    ) -> None:
        self._channels = {p.channel: _Channel(p) for p in policies}
        self._pusher = pusher
        self._clock = clock or SystemClock()
        self.settings = settings or SyncSettings()
        self._snapshot = snapshot
        self._on_failure = on_failure
        self._available: dict[str, int] = {}
        self._versions: dict[tuple[str, str], int] = {}
        self._wake = asyncio.Event()
        self.pushes = 0
        self.full_pushes = 0
        self.failed_pushes = 0

    @property
    def available(self) -> Mapping[str, int]:
        return dict(self._available)

    def apply(
        self, sku: str, available: int, *, version: tuple[str, str, int] | None = None
    ) -> bool:
        """Record ``sku``'s available stock; False (ignored) when ``version`` is stale."""
        if version is not None:
            key, sequence = (version[0], version[1]), version[2]
            if sequence <= self._versions.get(key, 0):
                return False
            self._versions[key] = sequence
        self._available[sku] = available
        now = self._clock.now()
        for ch in self._channels.values():
            if ch.policy.shown(sku, available) == ch.sent.get(sku):
                ch.dirty.discard(sku)
            else:
                ch.dirty.add(sku)
                ch.dirty_since = ch.dirty_since or now
        self._wake.set()
        return True

    def request_full_refresh(self) -> None:
        """Push every channel a full refresh at the next step (e.g. at start, from ``snapshot``).

        A process that just started knows nothing it pushed before; a full list from
        the truth also clears SKUs a channel still shows but we no longer stock.
        """
        for ch in self._channels.values():
            ch.full_due = True
        self._wake.set()

    async def handle_event(self, session: AsyncSession, event: ReceivedEvent) -> None:
        """Consumer handler for ``AvailabilityChanged`` (register it under that type)."""
        availability = event.unpack(AvailabilityChanged).availability
        env = event.envelope
        self.apply(
            availability.sku,
            availability.available,
            version=(env.aggregate_type, env.aggregate_id, env.sequence),
        )

    async def run(self) -> None:
        while True:
            await self.step()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.tick)
            self._wake.clear()

    async def step(self) -> None:
        """Push whatever is due now: full refreshes, coalesced changes, retries."""
        now = self._clock.now()
        for ch in self._channels.values():
            if ch.next_full is None:
                ch.next_full = now + self.settings.full_refresh
            if now >= ch.next_full:
                ch.full_due = True
                ch.next_full = now + self.settings.full_refresh
            if ch.retry_at is not None and now < ch.retry_at:
                continue
            if ch.full_due:
                await self._push_full(ch, now)
            elif ch.dirty and ch.dirty_since and now >= ch.dirty_since + self.settings.coalesce:
                await self._push_changes(ch, now)

    async def _push_full(self, ch: _Channel, now: datetime) -> None:
        if self._snapshot is not None:
            try:
                for sku, available in (await self._snapshot()).items():
                    self._available[sku] = available
            except Exception as exc:  # reported, and the refresh stays due
                self._failed(ch, now, True, (), f"snapshot: {exc!r}")
                return
        values = {sku: ch.policy.shown(sku, a) for sku, a in sorted(self._available.items())}
        if not values:  # knowing nothing, say nothing: an empty full list would clear the channel
            ch.full_due = False
            return
        if await self._push(ch, now, values, full=True):
            self.full_pushes += 1
            ch.full_due = False

    async def _push_changes(self, ch: _Channel, now: datetime) -> None:
        values = {sku: ch.policy.shown(sku, self._available[sku]) for sku in sorted(ch.dirty)}
        await self._push(ch, now, values, full=False)

    async def _push(
        self, ch: _Channel, now: datetime, values: dict[str, int], *, full: bool
    ) -> bool:
        updates = [StockUpdate(sku, qty) for sku, qty in values.items()]
        try:
            await self._pusher.push(ch.policy.channel, updates, full=full)
        except Exception as exc:  # any pusher failure: keep it due, retry, report
            self._failed(ch, now, full, tuple(values), repr(exc))
            return False
        self.pushes += 1
        ch.failures, ch.retry_at = 0, None
        ch.sent.update(values)
        # Changes that arrived during the push stay dirty for the next one.
        ch.dirty = {
            sku for sku in ch.dirty if ch.policy.shown(sku, self._available[sku]) != ch.sent[sku]
        }
        ch.dirty_since = self._clock.now() if ch.dirty else None
        return True

    @property
    def _backoff(self) -> Backoff:
        """Retries of a failed push double from ``retry_initial`` up to ``retry_max``."""
        return Backoff(
            first=self.settings.retry_initial.total_seconds(),
            cap=self.settings.retry_max.total_seconds(),
        )

    def _failed(
        self, ch: _Channel, now: datetime, full: bool, skus: tuple[str, ...], error: str
    ) -> None:
        ch.failures += 1
        self.failed_pushes += 1
        ch.retry_at = now + self._backoff.delay(ch.failures)
        failure = PushFailure(ch.policy.channel, full, skus, ch.failures, error)
        log.warning(
            "channel stock push failed",
            extra={"channel": failure.channel, "attempts": failure.attempts, "error": error},
        )
        if self._on_failure is not None:
            self._on_failure(failure)
