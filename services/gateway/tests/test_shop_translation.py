from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from oms_gateway.domain.errors import InvalidPayload, MalformedJson
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Money, PlatformOrderStatus
from oms_gateway.platforms.shop import STATUS_MAP, ShopAdapter
from omslib.clock import FakeClock
from omslib.platforms.samples.shop import new_secret, sample_shop_order

CREATED = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def translate(body: dict[str, Any] | bytes, msg_id: str = "msg_9") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    adapter = ShopAdapter(new_secret(), clock=FakeClock())
    return adapter.translate(RawPush("shop", {"webhook-id": msg_id}, raw))


def test_sample_order_becomes_one_canonical_snapshot() -> None:
    body = sample_shop_order("A1", [("SKU-1", 2), ("SKU-2", 1)], unit_price=500, created_at=CREATED)
    translation = translate(body)
    assert translation.event_id == "msg_9"
    assert translation.request_id() == "shop:msg_9"
    (snapshot,) = translation.snapshots
    assert snapshot.platform == "shop"
    assert snapshot.platform_order_id == "A1"
    assert snapshot.status is PlatformOrderStatus.CREATED
    assert snapshot.platform_status == "pending"
    assert snapshot.create_time == CREATED
    assert snapshot.total == Money(1500, "CNY")
    assert [(line.sku, line.quantity, line.unit_price) for line in snapshot.lines] == [
        ("SKU-1", 2, Money(500, "CNY")),
        ("SKU-2", 1, Money(500, "CNY")),
    ]
    assert snapshot.pay_time is None


@pytest.mark.parametrize(("shop_status", "canonical"), sorted(STATUS_MAP.items()))
def test_every_shop_status_maps_explicitly(
    shop_status: str, canonical: PlatformOrderStatus
) -> None:
    (snapshot,) = translate(sample_shop_order("A1", [("S", 1)], status=shop_status)).snapshots
    assert snapshot.status is canonical


def test_paid_snapshot_carries_the_update_time_as_pay_time() -> None:
    body = sample_shop_order("A1", [("S", 1)], status="paid", updated_at=CREATED)
    (snapshot,) = translate(body).snapshots
    assert snapshot.pay_time == CREATED


def test_offsets_are_normalised_to_utc() -> None:
    body = sample_shop_order("A1", [("S", 1)])
    body["order"]["updated_at"] = "2025-03-01T16:00:00+08:00"
    (snapshot,) = translate(body).snapshots
    assert snapshot.update_time == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _mutate(path: str, value: Any) -> dict[str, Any]:
    body = sample_shop_order("A1", [("SKU-1", 1)])
    target: Any = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _DELETE:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return body


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("type", "order.exploded"),
        ("order.status", "lost"),
        ("order.lines.0.quantity", 0),
        ("order.lines.0.quantity", -1),
        ("order.lines.0.unit_price", -5),
        ("order.total", -1),
        ("order.currency", "yuan"),
        ("order.created_at", "2025-03-01T08:00:00"),  # no offset
        ("order.updated_at", "not a time"),
        ("order.buyer", _DELETE),
        ("order.shipping_address.city", _DELETE),
        ("order.lines", []),
        ("order.id", ""),
    ],
)
def test_invalid_field_is_named(path: str, value: Any) -> None:
    with pytest.raises(InvalidPayload) as caught:
        translate(_mutate(path, value))
    assert caught.value.metadata["field"] == path
    assert path in caught.value.message


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b""])
def test_malformed_json_is_refused(raw: bytes) -> None:
    with pytest.raises(MalformedJson):
        translate(raw)


def test_non_object_body_is_refused() -> None:
    with pytest.raises(InvalidPayload):
        translate(b"[1, 2]")
