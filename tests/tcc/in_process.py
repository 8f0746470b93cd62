"""Orders and inventory as real gRPC servers on port 0, served by an event loop in a
thread of their own, so that synchronous test code (a hypothesis state machine) can
call them, and sharing one clock that a test can move forward."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from oms_inventory import bootstrap as inventory_bootstrap
from oms_inventory.config import Settings as InventorySettings
from oms_orders import bootstrap as orders_bootstrap
from oms_orders.config import Settings as OrdersSettings

T = TypeVar("T")


class ShiftedClock:
    """Real time plus an offset the test advances: timers keep running (TCC retries and
    leases fall due) while a test can jump past a payment deadline."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta

    def reset(self) -> None:
        """Back to real time (requests are validated against it: at most a day ahead)."""
        with self._lock:
            self._offset = timedelta(0)


class ServicesInThread:
    def __init__(
        self,
        database_url: Any,
        redis_url: str,
        orders_env: dict[str, Any] | None = None,
    ) -> None:
        self.clock = ShiftedClock()
        self._database_url = database_url
        self._redis_url = redis_url
        self._orders_env = orders_env or {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._inventory: inventory_bootstrap.Running | None = None
        self._orders: orders_bootstrap.Running | None = None
        self.orders_addr = self.inventory_addr = ""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        """Run ``coro`` on the services' loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> None:
        self._thread.start()
        self.run(self._start())

    def stop(self) -> None:
        try:
            self.run(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._loop.close()

    async def _start(self) -> None:
        self._inventory = await inventory_bootstrap.start(
            InventorySettings(
                OMS_INVENTORY_PORT=0,
                OMS_INVENTORY_HOST="127.0.0.1",
                OMS_INVENTORY_DATABASE_URL=self._database_url("inventory"),
                OMS_REDIS_URL=self._redis_url,
            ),
            clock=self.clock,
        )
        self.inventory_addr = f"127.0.0.1:{self._inventory.port}"
        self._orders = await orders_bootstrap.start(
            OrdersSettings(
                OMS_ORDERS_PORT=0,
                OMS_ORDERS_HOST="127.0.0.1",
                OMS_ORDERS_DATABASE_URL=self._database_url("orders"),
                OMS_REDIS_URL=self._redis_url,
                OMS_INVENTORY_ADDR=self.inventory_addr,
                **self._orders_env,
            ),
            clock=self.clock,
        )
        self.orders_addr = f"127.0.0.1:{self._orders.port}"

    async def _stop(self) -> None:
        if self._orders is not None:
            await self._orders.stop(0)
        if self._inventory is not None:
            await self._inventory.stop()
