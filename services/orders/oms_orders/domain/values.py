"""Value objects of an order: money, platform, buyer, address, lines, allocations."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from omslib.platforms.names import Platform

__all__ = ["Platform"]


class PlatformOrderStatus(enum.Enum):
    """A platform's order status mapped onto the canonical set."""

    CREATED = "CREATED"
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units of a currency; never a float."""

    minor_units: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor_units, bool) or not isinstance(self.minor_units, int):
            raise TypeError("Money.minor_units must be an int")


@dataclass(frozen=True)
class Buyer:
    id: str = ""
    name: str = ""


@dataclass(frozen=True)
class Address:
    province: str = ""
    city: str = ""
    district: str = ""
    line1: str = ""
    postal_code: str = ""
    recipient_name: str = ""
    phone: str = ""
    country_code: str = ""


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: Money
    title: str = ""


@dataclass(frozen=True)
class StockAllocation:
    """Units of a SKU reserved for the order in one warehouse."""

    sku: str
    warehouse_code: str
    quantity: int
