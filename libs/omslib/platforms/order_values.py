"""The values of a platform's order: what the gateway's adapters translate a push into and
what orders keeps (both ends of ``oms.orders.v1.PlatformOrderSnapshot``). Plain Python,
so either domain can use them without importing generated code."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class PlatformOrderStatus(enum.Enum):
    """A platform's own status mapped onto the small canonical set orders understands."""

    CREATED = "CREATED"
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units (fen, cents) of an ISO 4217 currency; never a float."""

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
