"""Orders' InventoryClient.restock against the real inventory service (in process, port 0)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import grpc.aio
import pytest
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1 import inventory_service_pb2 as pb
from oms.inventory.v1 import inventory_service_pb2_grpc as pb_grpc
from oms.tcc.v1 import tcc_pb2
from oms_inventory import bootstrap
from oms_inventory.config import Settings
from oms_orders.adapters.inventory_client import InventoryClient, RestockRefused
from oms_orders.domain.errors import InventoryUnavailable
from omslib.testing.net import free_port


@pytest.fixture
async def inventory(
    make_database_url: Callable[[str], str], redis_url: str
) -> AsyncIterator[bootstrap.Running]:
    settings = Settings(
        OMS_INVENTORY_DATABASE_URL=make_database_url("inventory"),
        OMS_INVENTORY_PORT=0,
        OMS_INVENTORY_HOST="127.0.0.1",
        OMS_SHUTDOWN_GRACE_SECONDS=1.0,
        OMS_REDIS_URL=redis_url,
    )
    running = await bootstrap.start(settings)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def channel(inventory: bootstrap.Running) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(inventory.addr) as opened:
        yield opened


async def reserve(stub: pb_grpc.InventoryServiceAsyncStub, gid: str, *, confirm: bool) -> None:
    branch = tcc_pb2.TccContext(gid=gid, branch_id="inventory-01")
    await stub.TryReserveStock(
        pb.TryReserveStockRequest(
            tcc=branch, order_id=f"order-{gid}", lines=[pb.ReserveLine(sku="TEE", quantity=3)]
        )
    )
    if confirm:
        await stub.ConfirmReserveStock(pb.ConfirmReserveStockRequest(tcc=branch))


async def on_hand(stub: pb_grpc.InventoryServiceAsyncStub) -> int:
    reply = await stub.GetStock(pb.GetStockRequest(sku="TEE", warehouse_code="HZ1"))
    return int(reply.stock.on_hand)


async def test_restock_puts_units_back_and_maps_refusals(channel: grpc.aio.Channel) -> None:
    stub = pb_grpc.InventoryServiceStub(channel)
    await stub.UpsertWarehouse(
        pb.UpsertWarehouseRequest(
            warehouse=ipb.Warehouse(code="HZ1", display_name="HZ1", active=True)
        )
    )
    await stub.SetStock(
        pb.SetStockRequest(
            sku="TEE",
            warehouse_code="HZ1",
            on_hand=10,
            reason=ipb.ADJUSTMENT_REASON_RECEIVED,
            actor="operator:test",
            request_id="set-TEE-HZ1",
        )
    )
    await reserve(stub, "paid", confirm=True)
    await reserve(stub, "unpaid", confirm=False)
    client = InventoryClient(channel, timeout=5)

    await client.restock(gid="paid", branch_id="inventory-01", reason="cancelled after payment")
    await client.restock(gid="paid", branch_id="inventory-01", reason="cancelled after payment")
    assert await on_hand(stub) == 10

    with pytest.raises(RestockRefused) as not_confirmed:
        await client.restock(gid="unpaid", branch_id="inventory-01", reason="cancelled")
    assert not_confirmed.value.reason == "RESERVATION_NOT_CONFIRMED"
    assert not_confirmed.value.metadata["state"] == "RESERVED"
    with pytest.raises(RestockRefused) as missing:
        await client.restock(gid="nobody", branch_id="inventory-01", reason="cancelled")
    assert missing.value.reason == "RESERVATION_NOT_FOUND"
    assert await on_hand(stub) == 10


async def test_restock_with_inventory_down_is_an_unknown_outcome() -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}") as channel:
        client = InventoryClient(channel, timeout=2)
        with pytest.raises(InventoryUnavailable) as down:
            await client.restock(gid="g1", branch_id="inventory-01", reason="cancelled")
    assert down.value.metadata["code"] == "UNAVAILABLE"
