"""A Try still out when the recovery loop gives up on it (past the payment deadline):
the order expires, nothing stays held, and a retried push answers the expired order.

The interleaving is forced, not timed: the inventory participant runs one real
recovery round (with the clock moved past the Try's deadline) before it
forwards the Try to the real inventory service.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from oms_orders.adapters.inventory_client import InventoryClient, InventoryTccParticipant
from oms_orders.domain.states import OrderState
from oms_orders.domain.tcc import INVENTORY
from oms_orders.entrypoints.proto_mapping import snapshot_from_proto
from oms_orders.service_layer.ports import ReservePayload
from oms_orders.service_layer.sync_platform_order import SyncPlatformOrder
from omslib.grpc_client import insecure_channel


class RecoveryOvertakesTheTry(InventoryTccParticipant):
    """Inventory whose Try answers only after the coordinator's recovery round has run."""

    def __init__(self, real: InventoryClient, clocked: Any) -> None:
        super().__init__(real)
        self._clocked = clocked
        self.overtaken = 0

    async def try_(self, gid: str, branch_id: str, payload: ReservePayload) -> object:
        if self.overtaken == 0:
            self._clocked.clock.advance(timedelta(minutes=32))  # deadline 30 + grace 1
            self.overtaken = await self._clocked.running.orders.coordinator.recover_once()
        return await super().try_(gid, branch_id, payload)


async def test_a_try_given_up_by_recovery_expires_the_order_and_holds_nothing(
    clocked_orders, inventory, put_stock, available, make_snapshot
) -> None:  # type: ignore[no-untyped-def]
    await put_stock("TEE", 5)
    orders = clocked_orders.running.orders
    channel = insecure_channel(inventory.addr)
    try:
        slow = RecoveryOvertakesTheTry(InventoryClient(channel, timeout=5), clocked_orders)
        # The test's participant replaces the real one for this coordinator only.
        orders.coordinator._participants[INVENTORY] = slow
        sync = orders.sync
        command = SyncPlatformOrder(
            "shop:slow-1", snapshot_from_proto(make_snapshot("SLOW-1", [("TEE", 2)]))
        )

        answered = await sync(command)
        assert slow.overtaken == 1
        assert answered.order.state is OrderState.CANCELLED
        assert answered.order.reason_codes == ["PAYMENT_TIMEOUT"]
        # The late Try was refused as hanging, or released by the Cancel round.
        await orders.coordinator.recover_once()
        a = await available("TEE")
        assert (a.on_hand, a.reserved, a.available) == (5, 0, 5)

        retried = await sync(command)  # the platform's retry: the same order, no new Try
        assert retried.order.order_id == answered.order.order_id
        assert retried.order.state is OrderState.CANCELLED
        assert (await available("TEE")).reserved == 0
    finally:
        await channel.close()
