"""The demo catalogue loads through the API and can be loaded twice."""

from __future__ import annotations

from oms.inventory.v1 import inventory_service_pb2 as pb
from oms_cli.demo_catalogue import seed_demo_catalogue


async def test_seeding_twice_gives_the_same_catalogue(kit) -> None:
    await seed_demo_catalogue(kit.stub)
    first = await kit.stub.GetAvailability(
        pb.GetAvailabilityRequest(skus=["TEE-WHITE-M", "TEE-BLACK-L", "MUG-CLASSIC", "CAP-RED"])
    )
    entries = len(await kit.audit())

    await seed_demo_catalogue(kit.stub)

    again = await kit.stub.GetAvailability(
        pb.GetAvailabilityRequest(skus=["TEE-WHITE-M", "TEE-BLACK-L", "MUG-CLASSIC", "CAP-RED"])
    )
    assert [a.on_hand for a in again.availabilities] == [a.on_hand for a in first.availabilities]
    assert len(await kit.audit()) == entries
    warehouses = await kit.stub.ListWarehouses(pb.ListWarehousesRequest())
    assert {w.code: w.nearby_provinces[0] for w in warehouses.warehouses} == {
        "BJ1": "Tianjin",
        "GZ1": "Guangxi",
        "HZ1": "Shanghai",
    }
    scarce = await kit.availability("LAMP-SCARCE")
    assert scarce.available == 3 and len(scarce.warehouses) == 1
