"""One way for a test to wait for something that happens in the background.

The timeout is a guard against a hang, never a performance bound: a condition
that is reached at all is reached well inside it, and the failure names what
was awaited so the reader knows which background step never came.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_WITHIN = 30.0
_STEP = 0.05


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    *,
    within: float = DEFAULT_WITHIN,
    what: str = "the condition",
    between: Callable[[], object] | None = None,
) -> T:
    """Poll ``check`` (plain or async) until it returns something truthy; return it.

    ``between`` runs after each miss (for example to advance a fake clock)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        if between is not None:
            between()
        await asyncio.sleep(_STEP)


def wait_until(
    check: Callable[[], T], *, within: float = DEFAULT_WITHIN, what: str = "the condition"
) -> T:
    """The blocking twin of :func:`eventually`, for tests that drive processes."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        time.sleep(_STEP * 2)
