"""A small demo catalogue loaded through the public API (``make run``, end-to-end tests).

Idempotent: warehouses are upserts and every stock change carries a fixed request id,
so seeding twice changes nothing.
"""

from __future__ import annotations

from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1 import inventory_service_pb2 as pb
from oms.inventory.v1 import inventory_service_pb2_grpc as pb_grpc

DEMO_WAREHOUSES = (
    ipb.Warehouse(
        code="HZ1",
        display_name="Hangzhou East",
        province="Zhejiang",
        city="Hangzhou",
        active=True,
        nearby_provinces=["Shanghai", "Jiangsu", "Anhui"],
    ),
    ipb.Warehouse(
        code="GZ1",
        display_name="Guangzhou South",
        province="Guangdong",
        city="Guangzhou",
        active=True,
        nearby_provinces=["Guangxi", "Fujian", "Hunan"],
    ),
    ipb.Warehouse(
        code="BJ1",
        display_name="Beijing North",
        province="Beijing",
        city="Beijing",
        active=True,
        nearby_provinces=["Tianjin", "Hebei", "Shandong"],
    ),
)

# (sku, warehouse, on hand): LAMP-SCARCE is the scarce one, 3 units in one warehouse.
DEMO_STOCK = (
    ("TEE-WHITE-M", "HZ1", 120),
    ("TEE-WHITE-M", "GZ1", 80),
    ("TEE-WHITE-M", "BJ1", 40),
    ("TEE-BLACK-L", "HZ1", 60),
    ("TEE-BLACK-L", "BJ1", 25),
    ("MUG-CLASSIC", "HZ1", 200),
    ("MUG-CLASSIC", "GZ1", 150),
    ("CAP-RED", "GZ1", 30),
    ("CAP-RED", "BJ1", 10),
    ("LAMP-SCARCE", "BJ1", 3),
)


async def seed_demo_catalogue(stub: pb_grpc.InventoryServiceAsyncStub) -> None:
    """Upsert the demo warehouses and set their stock (safe to call repeatedly).

    ``stub`` is ``InventoryServiceStub(channel)`` on a ``grpc.aio`` channel.
    """
    for warehouse in DEMO_WAREHOUSES:
        await stub.UpsertWarehouse(pb.UpsertWarehouseRequest(warehouse=warehouse), timeout=10)
    for sku, code, on_hand in DEMO_STOCK:
        await stub.SetStock(
            pb.SetStockRequest(
                sku=sku,
                warehouse_code=code,
                on_hand=on_hand,
                reason=ipb.ADJUSTMENT_REASON_MANUAL,
                note="demo catalogue",
                actor="service:demo-seed",
                request_id=f"demo-seed-{sku}-{code}",
            ),
            timeout=10,
        )
