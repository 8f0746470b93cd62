"""Runs each channel poller on its interval: claim the channel's cursor (leased, so one
replica polls it at a time), fetch pages of modified orders, put each order through
the normal intake (inbox, dedupe, delivery worker), then advance the cursor.

Orders are committed to the inbox before the cursor moves, so a crash in between
only re-fetches orders that the inbox then recognises as duplicates (dedupe key:
channel + order id + modification time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Sequence
from datetime import timedelta

from omslib.clock import Clock
from omslib.db import UnitOfWork
from omslib.errors import DomainError
from omslib.ids import new_id
from omslib.telemetry import current_traceparent
from opentelemetry import trace
from pydantic import BaseModel

from oms_gateway.adapters.cursor_repository import CursorRepository
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation
from oms_gateway.pollers.base import POLL_CHANNEL_HEADER, ChannelPoller
from oms_gateway.service_layer.intake import IntakeService

log = logging.getLogger(__name__)
tracer = trace.get_tracer("oms_gateway.pollers")

MAX_PAGES_PER_POLL = 100


class _PolledAdapter:
    """Presents a poller to the intake as an adapter; fetched data needs no signature
    (we fetched it over our own authenticated connection). Never reachable by webhook."""

    def __init__(self, poller: ChannelPoller) -> None:
        self._poller = poller
        self.name = poller.name
        self.body_model: type[BaseModel] = poller.body_model

    @property
    def enabled(self) -> bool:
        return True

    def disabled_hint(self) -> str:
        return ""

    def verify(self, push: RawPush) -> None:
        return None

    def translate(self, push: RawPush) -> Translation:
        return self._poller.translate(push)


class PollRunner:
    def __init__(
        self,
        pollers: Sequence[ChannelPoller],
        intake: IntakeService,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        lease: timedelta = timedelta(minutes=5),
        owner: str | None = None,
    ) -> None:
        self._pollers = list(pollers)
        self._intake = intake
        self._uow_factory = uow_factory
        self._clock = clock
        self._lease = lease
        self.owner = owner or f"{socket.gethostname()[:30]}:{new_id()}"
        self._tasks: list[asyncio.Task[None]] = []

    async def poll_once(self, poller: ChannelPoller) -> int:
        """One poll of one channel; returns how many new orders went into the inbox."""
        now = self._clock.now()
        uow = self._uow_factory()
        async with uow:
            claimed, cursor = await CursorRepository(uow.session).claim(
                poller.name, self.owner, now, now + self._lease
            )
            await uow.commit()
        if not claimed:
            return 0
        stored = 0
        try:
            with tracer.start_as_current_span(
                "gateway.poll", attributes={"oms.channel": poller.name}
            ):
                for _ in range(MAX_PAGES_PER_POLL):
                    page = await poller.fetch(cursor)
                    stored += await self._store(poller, [order.raw for order in page.orders])
                    cursor = page.next_cursor
                    await self._advance(poller.name, cursor)
                    if not page.has_more or not page.orders:
                        break
        finally:
            await self._release(poller.name)
        return stored

    async def _store(self, poller: ChannelPoller, bodies: list[bytes]) -> int:
        adapter = _PolledAdapter(poller)
        stored = 0
        for body in bodies:
            push = RawPush(
                platform=poller.name, headers={POLL_CHANNEL_HEADER: poller.name}, body=body
            )
            try:
                result = await self._intake.receive(
                    adapter, push, traceparent=current_traceparent()
                )
            except DomainError as err:
                if err.reason == "INBOX_UNAVAILABLE":
                    raise  # do not move the cursor past what we could not store
                log.warning(
                    "polled order refused (kept in rejected_pushes)",
                    extra={"channel": poller.name, "reason": err.reason, "error": err.message},
                )
                continue
            stored += 0 if result.duplicate else 1
        return stored

    async def _advance(self, channel: str, cursor: str | None) -> None:
        uow = self._uow_factory()
        async with uow:
            await CursorRepository(uow.session).advance(
                channel, self.owner, cursor, self._clock.now()
            )
            await uow.commit()

    async def _release(self, channel: str) -> None:
        try:
            uow = self._uow_factory()
            async with uow:
                await CursorRepository(uow.session).release(channel, self.owner)
                await uow.commit()
        except Exception:
            log.exception(
                "could not release poll lease; it will expire", extra={"channel": channel}
            )

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(poller), name=f"poll-{poller.name}")
            for poller in self._pollers
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for poller in self._pollers:
            await poller.close()

    async def _run(self, poller: ChannelPoller) -> None:
        while True:
            try:
                stored = await self.poll_once(poller)
                if stored:
                    log.info("polled orders stored", extra={"channel": poller.name, "new": stored})
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "poll failed; will try at the next interval",
                    extra={"channel": poller.name, "error": repr(exc)},
                )
            await asyncio.sleep(poller.interval_seconds)
