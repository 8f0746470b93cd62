"""The snapshot of a Taobao, JD, Pinduoduo or Youzan order: amounts in yuan, times in UTC+8.

The four write the same things under their own field names; each adapter says where they
are (``Read``: a value and the field it came from, named when it is invalid) and this
module builds the snapshot once, checking the values in the same order for all four.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from oms_gateway.domain.snapshot import (
    Address,
    Buyer,
    Money,
    OrderLine,
    OrderSnapshot,
    PlatformOrderStatus,
)
from oms_gateway.platforms.common import china_time, minor_units

CURRENCY = "CNY"


class Read(NamedTuple):
    """A value of the push and the field it came from (``trade.payment``)."""

    value: Any
    field: str


@dataclass(frozen=True)
class YuanLine:
    sku: str
    quantity: int
    price: Read
    title: str


def yuan(amount: Read) -> Money:
    return Money(minor_units(amount.value, field=amount.field), CURRENCY)


def china_address(
    province: str,
    city: str,
    district: str,
    line1: str,
    *,
    recipient_name: str,
    phone: str,
    postal_code: str = "",
) -> Address:
    return Address(
        province=province,
        city=city,
        district=district,
        line1=line1,
        postal_code=postal_code,
        recipient_name=recipient_name,
        phone=phone,
        country_code="CN",
    )


def yuan_snapshot(
    *,
    platform: str,
    order_id: str,
    status: PlatformOrderStatus,
    platform_status: str,
    created: Read,
    updated: Read,
    payment: Read,
    buyer: Buyer,
    address: Address,
    lines: Iterable[YuanLine],
    paid: Read,
) -> OrderSnapshot:
    """The snapshot; ``paid.value`` None or empty means not paid yet."""
    return OrderSnapshot(
        platform=platform,
        platform_order_id=order_id,
        status=status,
        platform_status=platform_status,
        create_time=china_time(created.value, field=created.field),
        update_time=china_time(updated.value, field=updated.field),
        total=yuan(payment),
        buyer=buyer,
        shipping_address=address,
        lines=tuple(
            OrderLine(
                sku=line.sku, quantity=line.quantity, unit_price=yuan(line.price), title=line.title
            )
            for line in lines
        ),
        pay_time=china_time(paid.value, field=paid.field) if paid.value else None,
    )
