"""Delivery worker: takes inbox entries to orders, retrying with backoff.

Woken in-process right after each intake commit, plus a periodic sweep for due
retries and for entries whose lease ran out (a crashed replica), plus the outage
watch once orders serves again after being unreachable. Each entry is
claimed with a lease by a conditional UPDATE, so replicas never deliver the same
entry at once; every later write is conditional on still holding that lease. An
entry given up on (DEAD) raises a ``WEBHOOK_DEAD_LETTERED`` alert in the same
transaction (its row, and its event in the outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from omslib.clock import Clock
from omslib.errors import DomainError
from omslib.ids import new_id
from omslib.telemetry import SPAN_ATTR_ORDER_ID, SPAN_ATTR_PLATFORM, context_from_traceparent
from opentelemetry import trace

from oms_gateway.adapters.repository import InboxRepository
from oms_gateway.adapters.unit_of_work import GatewayUnitOfWork
from oms_gateway.domain.alerts import WEBHOOK_DEAD_LETTERED, Alert, dead_lettered
from oms_gateway.domain.errors import OrdersDown, OrdersUnavailable, OrdersUnreachable
from oms_gateway.domain.inbox import DeliveryAttempt, InboxEntry
from oms_gateway.domain.retry_policy import RetryPolicy
from oms_gateway.platforms.registry import PlatformRegistry
from oms_gateway.service_layer.orders_outage import OrdersOutageWatch
from oms_gateway.service_layer.ports import OrdersPort, SyncResult, Translator
from oms_gateway.service_layer.record_messages import (
    AftersalesPort,
    AftersalesUnavailable,
    record_messages,
)

log = logging.getLogger(__name__)
tracer = trace.get_tracer("oms_gateway.delivery")

SPAN_ATTR_PLATFORM_ORDER_ID = "oms.platform_order_id"
SPAN_ATTR_INBOX_ID = "oms.inbox_id"
SPAN_ATTR_TICKET_ID = "oms.ticket_id"


@dataclass(frozen=True)
class DeliveryOptions:
    concurrency: int = 8
    lease: timedelta = timedelta(seconds=60)
    sweep_interval_seconds: float = 1.0
    shutdown_grace_seconds: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # How often orders' health is asked while deliveries wait for it to come back.
    outage_probe_seconds: float = 0.5


class DeliveryWorker:
    def __init__(
        self,
        uow_factory: Callable[[], GatewayUnitOfWork],
        orders: OrdersPort,
        platforms: PlatformRegistry,
        clock: Clock,
        options: DeliveryOptions = DeliveryOptions(),
        *,
        aftersales: AftersalesPort | None = None,
        owner: str | None = None,
        translators: Mapping[str, Translator] | None = None,
        orders_health: Callable[[], Awaitable[str]] | None = None,
        reclaim_on_start: bool = False,
    ) -> None:
        self._uow_factory = uow_factory
        self._orders = orders
        # Customer messages (after-sales kinds, WeChat, the web form) go to aftersales.
        self._aftersales = aftersales
        self._platforms = platforms
        # Inbox "platforms" that are not webhooks (poll channels) translate through these.
        self._translators = dict(translators or {})
        self._clock = clock
        self._options = options
        self.owner = owner or f"{socket.gethostname()[:30]}:{new_id()}"
        # With an owner id naming a process slot (see bootstrap.delivery_owner), leases
        # still held under it at start are those of a killed predecessor.
        self._reclaim_on_start = reclaim_on_start
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._outage = (
            None
            if orders_health is None
            else OrdersOutageWatch(
                orders_health, self._resume, interval=options.outage_probe_seconds
            )
        )

    def wake(self) -> None:
        """Look for work now (called after each intake commit)."""
        self._wake.set()

    async def start(self) -> None:
        if self._reclaim_on_start:
            await self._reclaim()
        self._stopping = False
        self._loop_task = asyncio.create_task(self._run(), name=f"delivery-{self.owner}")

    async def stop(self) -> None:
        """Stop claiming, let in-flight deliveries finish (within the grace), release leases."""
        self._stopping = True
        self._wake.set()
        if self._outage is not None:
            await self._outage.stop()
        if self._loop_task is not None:
            await self._loop_task
            self._loop_task = None
        pending = {task: entry_id for entry_id, task in self._in_flight.items()}
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=self._options.shutdown_grace_seconds)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for task in late:
            await self._release(pending[task])

    async def run_once(self) -> int:
        """Claim what is due now and deliver it to completion; returns how many were claimed."""
        claimed = await self._claim(self._options.concurrency)
        await asyncio.gather(*(self._deliver(entry_id) for entry_id in claimed))
        return len(claimed)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            free = self._options.concurrency - len(self._in_flight)
            if free > 0:
                try:
                    for entry_id in await self._claim(free):
                        self._spawn(entry_id)
                except Exception:
                    log.exception("claiming inbox entries failed; will retry at the next sweep")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._options.sweep_interval_seconds)

    def _spawn(self, entry_id: str) -> None:
        task = asyncio.create_task(self._deliver(entry_id), name=f"deliver-{entry_id}")
        self._in_flight[entry_id] = task

        def done(_: asyncio.Task[None]) -> None:
            if self._in_flight.get(entry_id) is task:
                del self._in_flight[entry_id]
            self._wake.set()  # a slot is free again

        task.add_done_callback(done)

    async def _claim(self, limit: int) -> list[str]:
        now = self._clock.now()
        uow = self._uow_factory()
        async with uow:
            repo = InboxRepository(uow.session)
            claimed = [
                entry_id
                for entry_id in await repo.due_ids(now, limit)
                if await repo.claim(entry_id, self.owner, now, now + self._options.lease)
            ]
            await uow.commit()
        return claimed

    async def _deliver(self, entry_id: str) -> None:
        try:
            uow = self._uow_factory()
            async with uow:
                entry = await InboxRepository(uow.session).get(entry_id)
            if entry is None or entry.lease_owner != self.owner:
                return
            with tracer.start_as_current_span(
                "gateway.deliver",
                context=context_from_traceparent(entry.traceparent),
                attributes={
                    SPAN_ATTR_PLATFORM: entry.platform,
                    SPAN_ATTR_INBOX_ID: entry.id,
                    "oms.attempt": entry.attempts + 1,
                },
            ):
                await self._attempt(entry)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug or a database outage: keep the lease; it expires and the entry
            # is claimed again, so nothing is lost.
            log.exception(
                "delivery of inbox entry failed unexpectedly", extra={"inbox_id": entry_id}
            )

    async def _attempt(self, entry: InboxEntry) -> None:
        span = trace.get_current_span()
        try:
            translator = self._translators.get(entry.platform) or self._platforms.get(
                entry.platform
            )
            translation = translator.translate(entry.raw_push()).for_event(entry.event_id)
            # Customer messages go to aftersales; an entry holds messages or snapshots.
            results: list[SyncResult] = await record_messages(
                self._aftersales, translation.messages
            )
            for index, snapshot in enumerate(translation.snapshots):
                span.set_attribute(SPAN_ATTR_PLATFORM_ORDER_ID, snapshot.platform_order_id)
                results.append(
                    await self._orders.sync_platform_order(translation.request_id(index), snapshot)
                )
        except OrdersDown as err:
            await self._failed(entry, err, transient=True, outage=True)
            if isinstance(err, OrdersUnreachable) and self._outage is not None:
                self._outage.saw_down(entry.id)
            return
        except OrdersUnavailable as err:
            await self._failed(entry, err, transient=True)
            return
        except AftersalesUnavailable as err:
            await self._failed(entry, err, transient=True)
            return
        except DomainError as err:
            await self._failed(entry, err, transient=False)
            return
        order_id = results[-1].order_id if results else ""
        outcome = results[-1].outcome if results else "EMPTY"
        span.set_attribute(
            SPAN_ATTR_TICKET_ID if translation.messages else SPAN_ATTR_ORDER_ID, order_id
        )
        await self._finish(
            entry,
            "delivered",
            lambda repo, now: repo.mark_delivered(
                entry.id, self.owner, now, order_id=order_id, outcome=outcome
            ),
            order_id=order_id,
        )
        log.info(
            "inbox entry delivered",
            extra={"inbox_id": entry.id, "order_id": order_id, "outcome": outcome},
        )

    async def _failed(
        self, entry: InboxEntry, err: DomainError, *, transient: bool, outage: bool = False
    ) -> None:
        attempts = entry.attempts + 1
        error = f"{err.reason}: {err.message}"
        span = trace.get_current_span()
        span.set_status(trace.Status(trace.StatusCode.ERROR, error))
        # An outage is no verdict on the push: it never exhausts the attempts.
        if transient and (outage or not self._options.retry.exhausted(attempts)):
            delay = self._options.retry.delay(attempts, outage=outage)
            await self._finish(
                entry,
                "retry",
                lambda repo, now: repo.schedule_retry(
                    entry.id, self.owner, now, next_attempt_at=now + delay, error=error
                ),
                error=error,
            )
            log.warning(
                "delivery failed, will retry",
                extra={
                    "inbox_id": entry.id,
                    "attempts": attempts,
                    "retry_in": delay.total_seconds(),
                    "error": error,
                },
            )
            return
        if transient:
            error = f"gave up after {attempts} attempts; last error {error}"
        await self._finish(
            entry,
            "dead",
            lambda repo, now: repo.mark_dead(entry.id, self.owner, now, error=error),
            error=error,
            alert=lambda now: dead_lettered(
                new_id(int(now.timestamp() * 1000)),
                entry_id=entry.id,
                platform=entry.platform,
                event_id=entry.event_id,
                attempts=attempts,
                error=error,
                now=now,
            ),
        )
        log.error(
            "inbox entry is DEAD",
            extra={"code": WEBHOOK_DEAD_LETTERED, "inbox_id": entry.id, "error": error},
        )

    async def _finish(
        self,
        entry: InboxEntry,
        what: str,
        write: Callable[[InboxRepository, datetime], Awaitable[bool]],
        *,
        error: str | None = None,
        order_id: str | None = None,
        alert: Callable[[datetime], Alert] | None = None,
    ) -> None:
        uow = self._uow_factory()
        async with uow:
            now = self._clock.now()
            repo = InboxRepository(uow.session)
            still_ours = await write(repo, now)
            if still_ours:
                await repo.add_attempt(
                    DeliveryAttempt(
                        id=new_id(int(now.timestamp() * 1000)),
                        inbox_id=entry.id,
                        attempted_at=now,
                        worker=self.owner,
                        outcome=what,
                        error=error,
                        order_id=order_id,
                    )
                )
                if alert is not None:
                    await uow.raise_alert(alert(now))
            await uow.commit()
        if not still_ours:
            log.warning(
                "lease lost before recording the result; another worker owns the entry",
                extra={"inbox_id": entry.id, "result": what},
            )

    async def _reclaim(self) -> None:
        """Make the entries our killed predecessor was delivering due now, rather than
        when its leases run out (a minute after the crash)."""
        uow = self._uow_factory()
        async with uow:
            released = await InboxRepository(uow.session).release_all(self.owner, self._clock.now())
            await uow.commit()
        if released:
            log.warning(
                "took back deliveries a previous process left in flight",
                extra={"owner": self.owner, "count": released},
            )

    async def _resume(self, entry_ids: list[str]) -> None:
        """Orders serves again: deliveries that found it down are due now."""
        uow = self._uow_factory()
        async with uow:
            await InboxRepository(uow.session).make_due(entry_ids, self._clock.now())
            await uow.commit()
        self._wake.set()

    async def _release(self, entry_id: str) -> None:
        try:
            uow = self._uow_factory()
            async with uow:
                await InboxRepository(uow.session).release(entry_id, self.owner, self._clock.now())
                await uow.commit()
        except Exception:
            log.exception("could not release lease; it will expire", extra={"inbox_id": entry_id})
