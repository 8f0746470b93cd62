"""Resource names of orders: "orders/{id}" or "platforms/{platform}/orders/{platform_order_id}"."""

from __future__ import annotations

from dataclasses import dataclass

from oms_orders.domain.errors import InvalidName
from oms_orders.domain.values import Platform


@dataclass(frozen=True)
class OrderIdName:
    order_id: str


@dataclass(frozen=True)
class PlatformOrderName:
    platform: Platform
    platform_order_id: str


def parse_order_name(name: str) -> OrderIdName | PlatformOrderName:
    """Parse either name form; :class:`InvalidName` when it is neither."""
    parts = name.split("/")
    if len(parts) == 2 and parts[0] == "orders" and parts[1]:
        return OrderIdName(parts[1])
    if len(parts) == 4 and parts[0] == "platforms" and parts[2] == "orders" and parts[3]:
        platform = Platform.parse(parts[1])
        if platform is None:
            known = ", ".join(p.value for p in Platform)
            raise InvalidName(
                f"unknown platform {parts[1]!r} in {name!r}; expected one of {known}",
                metadata={"name": name},
            )
        return PlatformOrderName(platform, parts[3])
    raise InvalidName(
        f"invalid order name {name!r}: expected 'orders/{{order_id}}' or "
        "'platforms/{platform}/orders/{platform_order_id}'",
        metadata={"name": name},
    )
