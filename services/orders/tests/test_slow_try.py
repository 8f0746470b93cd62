"""A Try slower than the recovery loop's patience: recovery cancels it, the push is retried.

The interleaving is forced, not timed: the inventory participant runs one real
recovery round (with the clock moved past the Try's retry time) before it
forwards the Try to the real inventory service.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from oms_orders.adapters.inventory_client import InventoryClient
from oms_orders.domain.errors import TryAbandoned
from oms_orders.domain.snapshot import PlatformOrderSnapshot
from oms_orders.domain.states import OrderState
from oms_orders.domain.values import StockAllocation
from oms_orders.entrypoints.proto_mapping import snapshot_from_proto
from oms_orders.service_layer.sync_platform_order import PlatformOrderSync, SyncPlatformOrder
from omslib.errors import ErrorKind
from omslib.grpc_client import insecure_channel


class RecoveryOvertakesTheTry:
    """Inventory that answers only after the coordinator's recovery round has run."""

    def __init__(self, real: InventoryClient, clocked) -> None:  # type: ignore[no-untyped-def]
        self._real = real
        self._clocked = clocked
        self.overtaken = 0

    async def try_reserve(
        self,
        *,
        gid: str,
        branch_id: str,
        order_id: str,
        lines: Sequence[tuple[str, int]],
        ship_to_province: str,
        expire_time: datetime,
    ) -> list[StockAllocation]:
        if self.overtaken == 0:
            self._clocked.clock.advance(timedelta(minutes=1))
            self.overtaken = await self._clocked.running.orders.coordinator.recover_once()
        return await self._real.try_reserve(
            gid=gid,
            branch_id=branch_id,
            order_id=order_id,
            lines=lines,
            ship_to_province=ship_to_province,
            expire_time=expire_time,
        )

    async def cancel_reserve(self, *, gid: str, branch_id: str) -> None:
        await self._real.cancel_reserve(gid=gid, branch_id=branch_id)


def _snapshot(make_snapshot) -> PlatformOrderSnapshot:  # type: ignore[no-untyped-def]
    return snapshot_from_proto(make_snapshot("SLOW-1", [("TEE", 2)]))


async def test_an_abandoned_try_answers_retry_and_the_retry_places_the_order(
    clocked_orders, inventory, put_stock, available, make_snapshot
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    orders = clocked_orders.running.orders
    channel = insecure_channel(inventory.addr)
    try:
        slow = RecoveryOvertakesTheTry(InventoryClient(channel, timeout=5), clocked_orders)
        sync = PlatformOrderSync(
            orders.uow_factory,
            slow,
            clocked_orders.clock,
            payment_window=timedelta(minutes=30),
            try_timeout=timedelta(seconds=2),
            flow=orders.flow,
        )
        command = SyncPlatformOrder("shop:slow-1", _snapshot(make_snapshot))

        with pytest.raises(TryAbandoned) as abandoned:
            await sync(command)
        assert slow.overtaken == 1
        assert "retry the push" in abandoned.value.message
        # Whatever the late Try reserved was released by the recovery's Cancel round
        # (or the Try was refused as hanging): nothing stays held.
        await orders.coordinator.recover_once()
        a = await available("TEE")
        assert (a.on_hand, a.reserved, a.available) == (5, 0, 5)

        retried = await sync(command)
        assert retried.order.state is OrderState.PENDING_PAYMENT
        a = await available("TEE")
        assert (a.on_hand, a.reserved, a.available) == (5, 2, 3)
    finally:
        await channel.close()


def test_the_abandoned_error_is_retryable() -> None:
    # UNAVAILABLE is what the gateway and clients retry with the same request id.
    assert TryAbandoned.kind is ErrorKind.UNAVAILABLE
