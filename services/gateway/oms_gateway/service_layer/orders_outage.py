"""Resume waiting deliveries as soon as orders serves again after an outage.

A delivery that found orders unreachable is scheduled for a later retry. Rather than
leave it until then, the watch probes orders' gRPC health (grpc.health.v1) every
``interval`` seconds while it knows of such deliveries; once orders answers SERVING,
it hands their inbox ids to ``resume`` (which makes them due now) and stops probing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

SERVING = "SERVING"


class OrdersOutageWatch:
    def __init__(
        self,
        health: Callable[[], Awaitable[str]],
        resume: Callable[[list[str]], Awaitable[None]],
        *,
        interval: float = 0.5,
        max_waiting: int = 10_000,
    ) -> None:
        self._health = health
        self._resume = resume
        self._interval = interval
        # Bounded: beyond it, entries simply wait out their (capped) backoff.
        self._max_waiting = max_waiting
        self._waiting: set[str] = set()
        self._probe: asyncio.Task[None] | None = None

    def saw_down(self, entry_id: str) -> None:
        """``entry_id`` failed because orders was unreachable; its retry is already stored."""
        if len(self._waiting) < self._max_waiting:
            self._waiting.add(entry_id)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._run(), name="orders-outage-probe")

    async def stop(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None

    async def _run(self) -> None:
        while self._waiting:
            await asyncio.sleep(self._interval)
            try:
                status = await self._health()
            except Exception as err:  # e.g. the channel is closing: ask again next time
                status = f"health check failed: {err!r}"
            if status != SERVING:
                continue
            waiting, self._waiting = sorted(self._waiting), set()
            try:
                await self._resume(waiting)
            except Exception:
                # The entries keep their scheduled retry: nothing is lost, only later.
                log.exception("could not resume deliveries after an orders outage")
            else:
                log.info("orders serves again; deliveries resumed", extra={"count": len(waiting)})
