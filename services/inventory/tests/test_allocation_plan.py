"""The warehouse choice rules, on the pure domain planner."""

from __future__ import annotations

import pytest
from oms_inventory.domain.allocation import plan_reservation
from oms_inventory.domain.errors import InsufficientStock, UnknownSkuInOrder
from oms_inventory.domain.reservation import ReservedItem, ReserveLine
from oms_inventory.domain.stock import StockLevel
from oms_inventory.domain.warehouse import Warehouse

HZ = Warehouse.create(code="HZ1", province="Zhejiang", nearby_provinces=["Shanghai", "Jiangsu"])
SH = Warehouse.create(code="SH1", province="Shanghai", nearby_provinces=["Jiangsu", "Zhejiang"])
GZ = Warehouse.create(code="GZ1", province="Guangdong", nearby_provinces=["Fujian"])
BJ = Warehouse.create(code="BJ1", province="Beijing", nearby_provinces=["Hebei", "Jiangsu"])


def stock(*rows: tuple[str, str, int]) -> list[StockLevel]:
    return [StockLevel(sku, code, on_hand, 0) for sku, code, on_hand in rows]


def plan(
    lines: list[tuple[str, int]],
    levels: list[StockLevel],
    province: str,
    warehouses: tuple[Warehouse, ...] = (HZ, SH, GZ, BJ),
) -> list[tuple[str, str, int]]:
    items = plan_reservation([ReserveLine(s, q) for s, q in lines], warehouses, levels, province)
    return [(i.sku, i.warehouse_code, i.quantity) for i in items]


def test_the_same_province_wins() -> None:
    levels = stock(("A", "HZ1", 5), ("A", "GZ1", 50), ("A", "SH1", 50))
    assert plan([("A", 2)], levels, "Zhejiang") == [("A", "HZ1", 2)]


def test_nearby_provinces_rank_by_their_position() -> None:
    levels = stock(("A", "SH1", 5), ("A", "BJ1", 50), ("A", "GZ1", 50))
    # Jiangsu is SH1's first neighbour but BJ1's second one.
    assert plan([("A", 1)], levels, "Jiangsu") == [("A", "SH1", 1)]


def test_then_the_most_stock_of_the_order_then_the_code() -> None:
    levels = stock(("A", "GZ1", 5), ("B", "GZ1", 5), ("A", "BJ1", 9), ("B", "BJ1", 9))
    assert plan([("A", 1), ("B", 1)], levels, "Tibet") == [("A", "BJ1", 1), ("B", "BJ1", 1)]
    tie = stock(("A", "GZ1", 5), ("A", "BJ1", 5))
    assert plan([("A", 1)], tie, "Tibet") == [("A", "BJ1", 1)]


def test_one_warehouse_for_everything_beats_a_nearer_split() -> None:
    levels = stock(("A", "HZ1", 5), ("B", "GZ1", 5), ("A", "GZ1", 5))
    assert plan([("A", 1), ("B", 1)], levels, "Zhejiang") == [("A", "GZ1", 1), ("B", "GZ1", 1)]


def test_a_split_only_when_no_warehouse_covers_every_line() -> None:
    levels = stock(("A", "HZ1", 3), ("A", "SH1", 2), ("A", "GZ1", 4), ("B", "GZ1", 1))
    assert plan([("A", 6), ("B", 1)], levels, "Zhejiang") == [
        ("A", "HZ1", 3),
        ("A", "SH1", 2),
        ("A", "GZ1", 1),
        ("B", "GZ1", 1),
    ]


def test_inactive_warehouses_are_never_chosen() -> None:
    closed = Warehouse.create(code="HZ1", province="Zhejiang", active=False)
    levels = stock(("A", "HZ1", 50), ("A", "GZ1", 1))
    assert plan([("A", 1)], levels, "Zhejiang", (closed, GZ)) == [("A", "GZ1", 1)]
    with pytest.raises(InsufficientStock):
        plan([("A", 2)], levels, "Zhejiang", (closed, GZ))


def test_reserved_units_are_not_available() -> None:
    levels = [StockLevel("A", "HZ1", 5, 4), StockLevel("A", "GZ1", 5, 0)]
    assert plan([("A", 2)], levels, "Zhejiang") == [("A", "GZ1", 2)]


def test_short_stock_names_the_first_short_line() -> None:
    levels = stock(("A", "HZ1", 5), ("B", "HZ1", 1), ("B", "GZ1", 1), ("C", "GZ1", 0))
    with pytest.raises(InsufficientStock) as refused:
        plan([("A", 1), ("B", 3), ("C", 1)], levels, "Zhejiang")
    assert refused.value.metadata == {"sku": "B", "requested": "3", "available": "2"}


def test_a_sku_no_warehouse_ever_held_is_unknown() -> None:
    with pytest.raises(UnknownSkuInOrder) as refused:
        plan([("A", 1), ("GHOST", 1)], stock(("A", "HZ1", 5)), "Zhejiang")
    assert refused.value.reason == "UNKNOWN_SKU"
    assert refused.value.metadata == {"sku": "GHOST"}


def test_the_province_match_ignores_case_and_spaces() -> None:
    assert HZ.distance_tier(" zhejiang ") == 0
    assert HZ.distance_tier("JIANGSU") == 2
    assert ReservedItem("A", "HZ1", 1).quantity == 1
