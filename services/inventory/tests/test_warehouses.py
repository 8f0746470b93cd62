"""Warehouses are created, updated and listed through UpsertWarehouse/ListWarehouses."""

from __future__ import annotations

import grpc
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1 import inventory_service_pb2 as pb


async def test_upsert_creates_a_warehouse_with_its_resource_name(kit) -> None:
    stored = await kit.warehouse("HZ1", "Zhejiang", ["Shanghai", "Jiangsu"], city="Hangzhou")

    assert stored.name == "warehouses/HZ1"
    assert (stored.code, stored.province, stored.city) == ("HZ1", "Zhejiang", "Hangzhou")
    assert list(stored.nearby_provinces) == ["Shanghai", "Jiangsu"]
    assert stored.active


async def test_upsert_of_an_existing_code_updates_it(kit) -> None:
    await kit.warehouse("HZ1", "Zhejiang", ["Shanghai"])
    await kit.warehouse("HZ1", "Jiangsu", ["Anhui", "Shanghai"], active=False)

    listed = await kit.stub.ListWarehouses(pb.ListWarehousesRequest(include_inactive=True))
    assert [
        (w.code, w.province, list(w.nearby_provinces), w.active) for w in listed.warehouses
    ] == [("HZ1", "Jiangsu", ["Anhui", "Shanghai"], False)]


async def test_list_hides_inactive_warehouses_unless_asked(kit) -> None:
    await kit.warehouse("GZ1", "Guangdong")
    await kit.warehouse("BJ1", "Beijing")
    await kit.warehouse("OLD", "Hebei", active=False)

    active = await kit.stub.ListWarehouses(pb.ListWarehousesRequest())
    everything = await kit.stub.ListWarehouses(pb.ListWarehousesRequest(include_inactive=True))

    assert [w.code for w in active.warehouses] == ["BJ1", "GZ1"]
    assert [w.code for w in everything.warehouses] == ["BJ1", "GZ1", "OLD"]


async def test_the_code_may_come_from_the_resource_name(kit) -> None:
    reply = await kit.stub.UpsertWarehouse(
        pb.UpsertWarehouseRequest(warehouse=ipb.Warehouse(name="warehouses/SH1", active=True))
    )
    assert reply.warehouse.code == "SH1"
    assert reply.warehouse.display_name == "SH1"


async def test_a_warehouse_without_a_valid_code_is_refused(kit) -> None:
    for code in ("", "has space", "x" * 40):
        error = await kit.refused(
            kit.stub.UpsertWarehouse(pb.UpsertWarehouseRequest(warehouse=ipb.Warehouse(code=code)))
        )
        assert error.code == grpc.StatusCode.INVALID_ARGUMENT
        assert error.metadata["field"] == "warehouse.code"
    listed = await kit.stub.ListWarehouses(pb.ListWarehousesRequest(include_inactive=True))
    assert list(listed.warehouses) == []
