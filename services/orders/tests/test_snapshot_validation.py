"""Snapshots are checked before anything is stored; the error names the field."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from oms_orders.domain.errors import InvalidSnapshot
from oms_orders.domain.snapshot import PlatformOrderSnapshot, validate
from oms_orders.domain.values import Money, OrderLine, Platform, PlatformOrderStatus

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
GOOD = PlatformOrderSnapshot(
    platform=Platform.TAOBAO,
    platform_order_id="T-1",
    status=PlatformOrderStatus.CREATED,
    platform_status="WAIT_BUYER_PAY",
    create_time=NOW,
    update_time=NOW,
    version=3,
    total=Money(1500, "CNY"),
    lines=(OrderLine("A", 1, Money(1000, "CNY")), OrderLine("B", 1, Money(500, "CNY"))),
)


def test_a_complete_snapshot_is_valid() -> None:
    validate(GOOD)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"platform": None}, "platform"),
        ({"platform_order_id": "  "}, "platform_order_id"),
        ({"status": None}, "status"),
        ({"update_time": None}, "update_time"),
        ({"total": None}, "total"),
        ({"total": Money(-1, "CNY")}, "total"),
        ({"lines": ()}, "lines"),
        ({"lines": (OrderLine("A", 0, Money(1, "CNY")),)}, "lines[0].quantity"),
        ({"lines": (OrderLine("A", -2, Money(1, "CNY")),)}, "lines[0].quantity"),
        ({"lines": (OrderLine("", 1, Money(1, "CNY")),)}, "lines[0].sku"),
        ({"lines": (OrderLine("A", 1, Money(-1, "CNY")),)}, "lines[0].unit_price"),
        ({"lines": (OrderLine("A", 1, Money(1, "USD")),)}, "lines[0].unit_price"),
    ],
)
def test_a_bad_field_is_an_invalid_snapshot_naming_it(changes: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidSnapshot) as raised:
        validate(dataclasses.replace(GOOD, **changes))
    assert raised.value.reason == "INVALID_SNAPSHOT"
    assert raised.value.metadata["field"] == field
    assert f"invalid snapshot: {field}:" in raised.value.message


def test_newer_means_a_later_update_time_then_a_higher_version() -> None:
    assert GOOD.is_newer_than(None, 0)
    assert GOOD.is_newer_than(NOW.replace(hour=7), 99)
    assert GOOD.is_newer_than(NOW, 2)
    assert not GOOD.is_newer_than(NOW, 3)
    assert not GOOD.is_newer_than(NOW.replace(hour=9), 0)
