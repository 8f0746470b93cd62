"""Value objects of an order: money, platform, buyer, address, lines, allocations."""

from __future__ import annotations

from dataclasses import dataclass

from omslib.platforms.names import Platform
from omslib.platforms.order_values import Address, Buyer, Money, OrderLine, PlatformOrderStatus

__all__ = [
    "Address",
    "Buyer",
    "Money",
    "OrderLine",
    "Platform",
    "PlatformOrderStatus",
    "StockAllocation",
]


@dataclass(frozen=True)
class StockAllocation:
    """Units of a SKU reserved for the order in one warehouse."""

    sku: str
    warehouse_code: str
    quantity: int
