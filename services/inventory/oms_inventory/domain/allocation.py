"""Choosing warehouses for an order: one that ships everything if possible, else a split.

Warehouses rank by distance to the buyer (same province, then nearby provinces in
the warehouse's own order), then by how much of the order's SKUs they hold, then
by code, so the choice is deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from oms_inventory.domain.errors import UnknownSkuInOrder, insufficient
from oms_inventory.domain.reservation import ReservedItem, ReserveLine
from oms_inventory.domain.stock import StockLevel
from oms_inventory.domain.warehouse import Warehouse


def plan_reservation(
    lines: Sequence[ReserveLine],
    warehouses: Sequence[Warehouse],
    levels: Sequence[StockLevel],
    ship_to_province: str,
) -> tuple[ReservedItem, ...]:
    """Where to reserve each line; raises UNKNOWN_SKU or INSUFFICIENT_STOCK otherwise."""
    known = {level.sku for level in levels}
    for line in lines:
        if line.sku not in known:
            raise UnknownSkuInOrder(
                f"no warehouse stocks SKU {line.sku}", metadata={"sku": line.sku}
            )
    active = {w.code: w for w in warehouses if w.active}
    available: dict[str, dict[str, int]] = defaultdict(dict)
    for level in levels:
        if level.warehouse_code in active:
            available[level.warehouse_code][level.sku] = level.available
    for line in lines:
        total = sum(stock.get(line.sku, 0) for stock in available.values())
        if total < line.quantity:
            raise insufficient(line.sku, line.quantity, total)
    ranked = rank_warehouses(lines, list(active.values()), available, ship_to_province)
    for warehouse in ranked:
        stock = available[warehouse.code]
        if all(stock.get(line.sku, 0) >= line.quantity for line in lines):
            return tuple(ReservedItem(line.sku, warehouse.code, line.quantity) for line in lines)
    return _split(lines, ranked, available)


def rank_warehouses(
    lines: Sequence[ReserveLine],
    warehouses: Sequence[Warehouse],
    available: dict[str, dict[str, int]],
    ship_to_province: str,
) -> list[Warehouse]:
    def key(warehouse: Warehouse) -> tuple[int, int, str]:
        stock = available.get(warehouse.code, {})
        held = sum(stock.get(line.sku, 0) for line in lines)
        return (warehouse.distance_tier(ship_to_province), -held, warehouse.code)

    return sorted(warehouses, key=key)


def _split(
    lines: Sequence[ReserveLine],
    ranked: Sequence[Warehouse],
    available: dict[str, dict[str, int]],
) -> tuple[ReservedItem, ...]:
    items: list[ReservedItem] = []
    for line in lines:
        remaining = line.quantity
        for warehouse in ranked:
            take = min(remaining, available[warehouse.code].get(line.sku, 0))
            if take > 0:
                items.append(ReservedItem(line.sku, warehouse.code, take))
                remaining -= take
            if remaining == 0:
                break
    return tuple(items)
