"""Stock for a test or a benchmark, put in place through inventory's operator API."""

from __future__ import annotations

from oms.inventory.v1 import inventory_pb2, inventory_service_pb2, inventory_service_pb2_grpc

from omslib.ids import new_id


async def put_stock(
    stub: inventory_service_pb2_grpc.InventoryServiceAsyncStub,
    sku: str,
    on_hand: int,
    *,
    warehouse: str = "HZ1",
    note: str = "test stock",
    actor: str = "test",
    timeout: float = 10,  # noqa: ASYNC109 - a bound on each call, passed to grpc
) -> None:
    """Open ``warehouse`` (Hangzhou) if needed and set ``sku``'s on-hand there."""
    await stub.UpsertWarehouse(
        inventory_service_pb2.UpsertWarehouseRequest(
            warehouse=inventory_pb2.Warehouse(
                code=warehouse,
                display_name=f"Warehouse {warehouse}",
                province="Zhejiang",
                city="Hangzhou",
                active=True,
            )
        ),
        timeout=timeout,
    )
    await stub.SetStock(
        inventory_service_pb2.SetStockRequest(
            sku=sku,
            warehouse_code=warehouse,
            on_hand=on_hand,
            reason=inventory_pb2.ADJUSTMENT_REASON_MANUAL,
            note=note,
            actor=actor,
            request_id=new_id(),
        ),
        timeout=timeout,
    )
