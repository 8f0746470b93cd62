"""No oversell: 500 concurrent orders from three channels for one SKU with stock N."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import grpc.aio
import pytest
from oms.inventory.v1 import inventory_service_pb2_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc

sys.path.insert(0, str(Path(__file__).parent))
from tcc_support import (
    CHANNELS,
    availability,
    set_stock,
    snapshot,
    sync,
    with_retries,
)

# Starts the whole stack as separate processes (services and Redis).
pytestmark = pytest.mark.e2e

ORDERS = 500
STOCK = 20


async def _run(stack) -> None:  # type: ignore[no-untyped-def]
    async with (
        grpc.aio.insecure_channel(stack.addr("orders")) as oc,
        grpc.aio.insecure_channel(stack.addr("inventory")) as ic,
    ):
        orders = orders_service_pb2_grpc.OrdersServiceStub(oc)
        inventory = inventory_service_pb2_grpc.InventoryServiceStub(ic)
        await set_stock(inventory, "HOT-1", STOCK)
        lowest: list[int] = []
        done = asyncio.Event()

        async def watch() -> None:
            while not done.is_set():
                lowest.append((await availability(inventory, "HOT-1")).available)
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(watch())
        replies = await asyncio.gather(
            *(
                sync(orders, snapshot(f"OS-{i}", "HOT-1", platform=CHANNELS[i % 3]))
                for i in range(ORDERS)
            )
        )
        done.set()
        await watcher

        held = [r.order for r in replies if r.order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT]
        rejected = [r.order for r in replies if r.order.state == order_pb2.ORDER_STATE_REJECTED]
        assert len(held) == STOCK
        assert len(rejected) == ORDERS - STOCK
        assert all(list(o.reason_codes) == ["INSUFFICIENT_STOCK"] for o in rejected)
        assert {o.platform for o in held + rejected} == set(CHANNELS)
        assert min(lowest) >= 0
        a = await availability(inventory, "HOT-1")
        assert (a.on_hand, a.reserved, a.available) == (STOCK, STOCK, 0)

        # pay half, cancel the rest: stock exactly accounted for
        paid, cancelled = held[: STOCK // 2], held[STOCK // 2 :]
        await asyncio.gather(
            *(
                with_retries(
                    lambda o=o: orders.RecordPayment(
                        orders_service_pb2.RecordPaymentRequest(
                            name=o.name,
                            amount=o.total,
                            payment_reference=f"PAY-{o.order_id}",
                        ),
                        timeout=30,
                    )
                )
                for o in paid
            ),
            *(
                with_retries(
                    lambda o=o: orders.CancelOrder(
                        orders_service_pb2.CancelOrderRequest(name=o.name, reason="test"),
                        timeout=30,
                    )
                )
                for o in cancelled
            ),
        )
        a = await availability(inventory, "HOT-1")
        left = STOCK - len(paid)
        assert (a.on_hand, a.reserved, a.available) == (left, 0, left)


def test_no_oversell_under_500_concurrent_orders_from_three_channels(stack) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_run(stack))
