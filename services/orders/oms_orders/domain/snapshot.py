"""A platform's view of an order at one moment, and the checks it must pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn

from oms_orders.domain.errors import InvalidSnapshot
from oms_orders.domain.values import (
    Address,
    Buyer,
    Money,
    OrderLine,
    Platform,
    PlatformOrderStatus,
)


@dataclass(frozen=True)
class PlatformOrderSnapshot:
    """What the gateway translated from one platform push.

    ``platform`` and ``status`` are None when the sender left them unspecified;
    :func:`validate` refuses that.
    """

    platform: Platform | None
    platform_order_id: str
    status: PlatformOrderStatus | None
    platform_status: str
    create_time: datetime | None
    update_time: datetime | None
    version: int
    total: Money | None
    buyer: Buyer = field(default_factory=Buyer)
    shipping_address: Address = field(default_factory=Address)
    lines: tuple[OrderLine, ...] = ()
    #: When the buyer paid, as the platform reports it (paid-like statuses).
    pay_time: datetime | None = None

    def is_newer_than(self, update_time: datetime | None, version: int) -> bool:
        """True when this snapshot's (update time, version) beats the stored pair."""
        assert self.update_time is not None, "validate() first"
        if update_time is None:
            return True
        return (self.update_time, self.version) > (update_time, version)


def validate(snapshot: PlatformOrderSnapshot) -> None:
    """Raise :class:`InvalidSnapshot` naming the first field that is wrong."""
    if snapshot.platform is None:
        _bad("platform", "the platform must be set")
    if not snapshot.platform_order_id.strip():
        _bad("platform_order_id", "the platform order id must not be empty")
    if snapshot.status is None:
        _bad("status", "the status must be set")
    if snapshot.update_time is None:
        _bad("update_time", "the update time must be set")
    if snapshot.total is None or not snapshot.total.currency:
        _bad("total", "the total with its currency must be set")
    total = snapshot.total
    if total.minor_units < 0:
        _bad("total", f"the total must not be negative, got {total.minor_units}")
    if not snapshot.lines:
        _bad("lines", "an order needs at least one line")
    for index, line in enumerate(snapshot.lines):
        _validate_line(index, line, total.currency)


def _validate_line(index: int, line: OrderLine, currency: str) -> None:
    where = f"lines[{index}]"
    if not line.sku.strip():
        _bad(f"{where}.sku", "the SKU must not be empty")
    if line.quantity <= 0:
        _bad(
            f"{where}.quantity",
            f"quantity of {line.sku} must be positive, got {line.quantity}",
        )
    if line.unit_price.minor_units < 0:
        _bad(f"{where}.unit_price", f"unit price of {line.sku} must not be negative")
    if line.unit_price.currency != currency:
        _bad(
            f"{where}.unit_price",
            f"unit price currency of {line.sku} ({line.unit_price.currency!r}) "
            f"differs from the total's {currency!r}",
        )


def _bad(field_name: str, message: str) -> NoReturn:
    raise InvalidSnapshot(
        f"invalid snapshot: {field_name}: {message}", metadata={"field": field_name}
    )
