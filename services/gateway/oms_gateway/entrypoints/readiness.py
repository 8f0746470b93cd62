"""Readiness: the database answers and orders reports SERVING."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Readiness:
    ping_database: Callable[[], Awaitable[None]]
    orders_health: Callable[[], Awaitable[str]]
    timeout_seconds: float = 2.0

    async def check(self) -> dict[str, str]:
        """``{"database": "ok" | why, "orders": "ok" | why}``."""
        database, orders = await asyncio.gather(self._database(), self._orders())
        return {"database": database, "orders": orders}

    async def _database(self) -> str:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await self.ping_database()
        except Exception as exc:
            return f"unreachable ({type(exc).__name__})"
        return "ok"

    async def _orders(self) -> str:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                status = await self.orders_health()
        except Exception as exc:
            return f"unreachable ({type(exc).__name__})"
        return "ok" if status == "SERVING" else f"{status} (grpc.health.v1)"
