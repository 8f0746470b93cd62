"""Interruptible pauses for background loops."""

from __future__ import annotations

import asyncio
import contextlib


async def pause(seconds: float, stop: asyncio.Event) -> None:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile.

    Background loops back off with this so that stopping a service while a
    dependency is down takes no longer than the current call.
    """
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
