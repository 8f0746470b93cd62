"""TryReserveStock picks warehouses per order: near first, one warehouse over a split."""

from __future__ import annotations


async def _three_warehouses(kit) -> None:
    await kit.warehouse("HZ1", "Zhejiang", ["Shanghai", "Jiangsu", "Anhui"])
    await kit.warehouse("GZ1", "Guangdong", ["Guangxi", "Fujian", "Hunan"])
    await kit.warehouse("BJ1", "Beijing", ["Tianjin", "Hebei", "Shandong"])


async def test_a_buyer_in_the_warehouse_province_is_served_from_it(kit) -> None:
    await _three_warehouses(kit)
    for code in ("HZ1", "GZ1", "BJ1"):
        await kit.set_stock("TEE", code, 20)

    assert kit.placed(await kit.try_reserve("g1", [("TEE", 2)], "Guangdong")) == [("TEE", "GZ1", 2)]
    assert kit.placed(await kit.try_reserve("g2", [("TEE", 2)], "Hebei")) == [("TEE", "BJ1", 2)]


async def test_one_warehouse_that_ships_everything_is_preferred_over_a_split(kit) -> None:
    await _three_warehouses(kit)
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.set_stock("TEE", "GZ1", 10)
    await kit.set_stock("MUG", "GZ1", 10)

    reservation = await kit.try_reserve("g1", [("TEE", 1), ("MUG", 1)], "Zhejiang")

    assert kit.placed(reservation) == [("TEE", "GZ1", 1), ("MUG", "GZ1", 1)]
    assert await kit.levels("TEE") == {"HZ1": (10, 0), "GZ1": (10, 1)}


async def test_lines_are_split_across_warehouses_only_when_needed(kit) -> None:
    await _three_warehouses(kit)
    await kit.set_stock("TEE", "HZ1", 3)
    await kit.set_stock("TEE", "BJ1", 4)
    await kit.set_stock("MUG", "GZ1", 2)

    reservation = await kit.try_reserve("g1", [("TEE", 5), ("MUG", 2)], "Shanghai")

    assert kit.placed(reservation) == [("TEE", "HZ1", 3), ("TEE", "BJ1", 2), ("MUG", "GZ1", 2)]
    assert await kit.levels("TEE") == {"HZ1": (3, 3), "BJ1": (4, 2)}
    assert await kit.levels("MUG") == {"GZ1": (2, 2)}


async def test_an_inactive_warehouse_takes_no_reservations(kit) -> None:
    await _three_warehouses(kit)
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.set_stock("TEE", "GZ1", 10)
    await kit.warehouse("HZ1", "Zhejiang", active=False)

    reservation = await kit.try_reserve("g1", [("TEE", 1)], "Zhejiang")

    assert kit.placed(reservation) == [("TEE", "GZ1", 1)]


async def test_a_warehouse_deactivated_after_a_try_takes_no_more_reservations(kit) -> None:
    # The Try caches the active warehouses; an UpsertWarehouse through this process drops them.
    await _three_warehouses(kit)
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.set_stock("TEE", "GZ1", 10)
    first = await kit.try_reserve("g1", [("TEE", 1)], "Zhejiang")
    assert kit.placed(first) == [("TEE", "HZ1", 1)]

    await kit.warehouse("HZ1", "Zhejiang", active=False)

    second = await kit.try_reserve("g2", [("TEE", 1)], "Zhejiang")
    assert kit.placed(second) == [("TEE", "GZ1", 1)]
