"""Translation of each platform's payload into the canonical snapshot: explicit status
tables, money in minor units, platform-local times to UTC."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oms_gateway.domain.errors import InvalidPayload, Unauthenticated
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import PlatformOrderStatus, Translation
from oms_gateway.platforms import douyin, jd, pdd, shopify, taobao, youzan
from oms_gateway.platforms.common import QUERY_HEADER, minor_units
from omslib.clock import FakeClock
from omslib.platforms import samples
from omslib.platforms.signing.pdd import connection_sign

CLOCK = FakeClock()
WHEN = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 16:00 in UTC+8


def _push(platform: str, body: bytes, headers: dict[str, str] | None = None) -> RawPush:
    return RawPush(platform, headers or {}, body)


def translate_taobao(trade: dict[str, Any]) -> Translation:
    adapter = taobao.TaobaoAdapter("k", "s", clock=CLOCK)
    return adapter.translate(_push("taobao", json.dumps(trade).encode()))


@pytest.mark.parametrize(("status", "canonical"), sorted(taobao.STATUS_MAP.items()))
def test_every_taobao_status_maps_explicitly(status: str, canonical: PlatformOrderStatus) -> None:
    body = samples.taobao.sample_trade("1", [("S", 1)])
    body["trade"]["status"] = status
    (snapshot,) = translate_taobao(body).snapshots
    assert (snapshot.status, snapshot.platform_status) == (canonical, status)


def test_taobao_times_are_utc8_and_amounts_are_fen() -> None:
    body = samples.taobao.sample_trade("1", [("S", 3)], unit_price="0.10", updated_at=WHEN)
    assert body["trade"]["modified"] == "2026-11-24 16:00:00"
    translation = translate_taobao(body)
    (snapshot,) = translation.snapshots
    assert snapshot.update_time == WHEN
    assert snapshot.total.minor_units == 30
    assert snapshot.lines[0].unit_price.minor_units == 10
    assert translation.request_id() == "taobao:1:WAIT_SELLER_SEND_GOODS:20261124160000"


@pytest.mark.parametrize(("status", "canonical"), sorted(jd.STATUS_MAP.items()))
def test_every_jd_status_maps_explicitly(status: str, canonical: PlatformOrderStatus) -> None:
    order = samples.jd.sample_order("9", [("S", 1)])
    order["orderState"] = status
    body = samples.jd.signed_form("k", "s", order)
    (snapshot,) = jd.JdAdapter("k", "s", clock=CLOCK).translate(_push("jd", body)).snapshots
    assert snapshot.status is canonical


@pytest.mark.parametrize(("status", "canonical"), sorted(douyin.STATUS_MAP.items()))
def test_every_douyin_status_maps_explicitly(status: int, canonical: PlatformOrderStatus) -> None:
    data = samples.douyin.sample_order_data("1", [("S", 1)])
    data["order_status"] = status
    body = json.dumps([samples.douyin.sample_message("m", data, tag="101")]).encode()
    adapter = douyin.DouyinAdapter("k", "s", clock=CLOCK)
    (snapshot,) = adapter.translate(_push("douyin", body)).snapshots
    assert snapshot.status is canonical


def test_douyin_messages_of_other_tags_are_ignored() -> None:
    body = json.dumps([{"tag": "201", "msg_id": "m", "data": "{}"}]).encode()
    translation = douyin.DouyinAdapter("k", "s", clock=CLOCK).translate(_push("douyin", body))
    assert translation.snapshots == () and translation.inbox_event_ids == ("m",)


def test_douyin_batch_is_split_per_message() -> None:
    messages = [
        samples.douyin.sample_message(
            f"m{n}", samples.douyin.sample_order_data(f"o{n}", [("S", 1)])
        )
        for n in range(3)
    ]
    adapter = douyin.DouyinAdapter("k", "s", clock=CLOCK)
    translation = adapter.translate(_push("douyin", json.dumps(messages).encode()))
    assert translation.inbox_event_ids == ("m0", "m1", "m2")
    part = translation.for_event("m1")
    assert [s.platform_order_id for s in part.snapshots] == ["o1"]
    assert part.request_id() == "douyin:m1"


@pytest.mark.parametrize(("status", "canonical"), sorted(youzan.STATUS_MAP.items()))
def test_every_youzan_status_maps_explicitly(status: str, canonical: PlatformOrderStatus) -> None:
    envelope = samples.youzan.sample_push_body("id", "E1", [("S", 1)])
    msg = json.loads(unquote(envelope["msg"]))
    msg["full_order_info"]["order_info"]["status"] = status
    envelope["msg"] = quote(json.dumps(msg))
    adapter = youzan.YouzanAdapter("id", "s", clock=CLOCK)
    (snapshot,) = adapter.translate(_push("youzan", json.dumps(envelope).encode())).snapshots
    assert snapshot.status is canonical


def test_youzan_test_message_is_stored_without_snapshots() -> None:
    envelope = samples.youzan.sample_push_body("id", "E1", [("S", 1)])
    envelope["test"] = True
    adapter = youzan.YouzanAdapter("id", "s", clock=CLOCK)
    assert adapter.translate(_push("youzan", json.dumps(envelope).encode())).snapshots == ()


@pytest.mark.parametrize(
    ("financial", "fulfillment", "cancelled", "closed", "canonical"),
    [
        ("pending", None, False, False, PlatformOrderStatus.CREATED),
        ("authorized", None, False, False, PlatformOrderStatus.CREATED),
        ("paid", None, False, False, PlatformOrderStatus.PAID),
        ("paid", "partial", False, False, PlatformOrderStatus.PAID),
        ("paid", "fulfilled", False, False, PlatformOrderStatus.SHIPPED),
        ("paid", "fulfilled", False, True, PlatformOrderStatus.COMPLETED),
        ("voided", None, True, False, PlatformOrderStatus.CANCELLED),
        ("refunded", None, False, False, PlatformOrderStatus.CANCELLED),
    ],
)
def test_shopify_status_comes_from_financial_and_fulfillment_status(
    financial: str, fulfillment: str | None, cancelled: bool, closed: bool, canonical: Any
) -> None:
    body = samples.shopify.sample_order(1, [("S", 1)])
    body.update(financial_status=financial, fulfillment_status=fulfillment)
    body["cancelled_at"] = body["updated_at"] if cancelled else None
    body["closed_at"] = body["updated_at"] if closed else None
    headers = {"x-shopify-webhook-id": "w", "x-shopify-topic": "orders/updated"}
    adapter = shopify.ShopifyAdapter("s", clock=CLOCK)
    (snapshot,) = adapter.translate(_push("shopify", json.dumps(body).encode(), headers)).snapshots
    assert snapshot.status is canonical


def test_shopify_zero_decimal_currency() -> None:
    body = samples.shopify.sample_order(1, [("S", 2)], unit_price="1500", currency="JPY")
    headers = {"x-shopify-webhook-id": "w", "x-shopify-topic": "orders/create"}
    adapter = shopify.ShopifyAdapter("s", clock=CLOCK)
    (snapshot,) = adapter.translate(_push("shopify", json.dumps(body).encode(), headers)).snapshots
    assert (snapshot.total.minor_units, snapshot.lines[0].unit_price.minor_units) == (3000, 1500)


@pytest.mark.parametrize(
    ("order_status", "refund_status", "canonical"),
    [
        (1, 1, PlatformOrderStatus.PAID),
        (2, 1, PlatformOrderStatus.SHIPPED),
        (3, 1, PlatformOrderStatus.DELIVERED),
        (1, 3, PlatformOrderStatus.PAID),
        (1, 4, PlatformOrderStatus.CANCELLED),
    ],
)
def test_pdd_status_table(order_status: int, refund_status: int, canonical: Any) -> None:
    frame = samples.pdd.sample_frame(1, "o", [("S", 1)])
    content = json.loads(frame["message"]["content"])
    content.update(order_status=order_status, refund_status=refund_status)
    frame["message"]["content"] = json.dumps(content)
    adapter = pdd.PddAdapter("c", "s", "ws://x")
    (snapshot,) = adapter.translate(_push("pdd", json.dumps(frame).encode())).snapshots
    assert snapshot.status is canonical


def test_pdd_refund_success_voids_the_order_and_records_the_platforms_refund() -> None:
    frame = samples.pdd.sample_frame(
        9, "251129-01", [("S", 2)], status="cancelled", unit_price="12.50"
    )
    adapter = pdd.PddAdapter("c", "s", "ws://x")
    translation = adapter.translate(_push("pdd", json.dumps(frame).encode()))
    (snapshot,) = translation.snapshots
    (message,) = translation.messages
    assert snapshot.status is PlatformOrderStatus.CANCELLED
    assert (message.platform, message.platform_order_id) == ("pdd", "251129-01")
    assert message.case_id == "refund:251129-01" and message.refund_paid is not None
    assert message.refund_paid.amount_minor_units == 2500
    paid = samples.pdd.sample_frame(10, "251129-01", [("S", 2)], status="paid")
    assert not adapter.translate(_push("pdd", json.dumps(paid).encode())).messages


@pytest.mark.parametrize(
    ("value", "expected"), [("12.34", 1234), ("0", 0), ("7", 700), ("0.1", 10)]
)
def test_minor_units(value: str, expected: int) -> None:
    assert minor_units(value, field="x") == expected


@pytest.mark.parametrize("value", ["1.234", "-1", "abc", "NaN", "Infinity"])
def test_minor_units_refuses_what_is_not_an_amount(value: str) -> None:
    with pytest.raises(InvalidPayload, match="x"):
        minor_units(value, field="x")


def test_pdd_connection_sign_is_base64_md5() -> None:
    # base64(md5("c" + "1000" + "s"))
    import base64
    import hashlib

    expected = base64.b64encode(hashlib.md5(b"c1000s").digest()).decode()
    assert connection_sign("c", 1000, "s") == expected


# --- robustness: whatever a signed push contains, the answer is a 4xx, never a crash --------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _adapters() -> list[Any]:
    return [
        shopify.ShopifyAdapter("s", clock=CLOCK),
        douyin.DouyinAdapter("k", "s", clock=CLOCK),
        youzan.YouzanAdapter("k", "s", clock=CLOCK),
        taobao.TaobaoAdapter("k", "s", clock=CLOCK),
        jd.JdAdapter("k", "s", clock=CLOCK),
        pdd.PddAdapter("c", "s", "ws://x"),
    ]


def _samples() -> dict[str, Any]:
    data = samples.douyin.sample_order_data("1", [("S", 1)])
    return {
        "shopify": samples.shopify.sample_order(1, [("S", 1)]),
        "douyin": [samples.douyin.sample_message("m", data)],
        "youzan": samples.youzan.sample_push_body("k", "E1", [("S", 1)]),
        "taobao": samples.taobao.sample_trade("1", [("S", 1)]),
        "jd": samples.jd.sample_order("1", [("S", 1)]),
        "pdd": samples.pdd.sample_frame(1, "o", [("S", 1)]),
    }


def _replace_leaf(value: Any, path: list[int], new: Any) -> Any:
    """Replace the leaf chosen by ``path`` (indices into each container) with ``new``."""
    if not path or not isinstance(value, dict | list) or not value:
        return new
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    key = keys[path[0] % len(keys)]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[key] = _replace_leaf(copy[key], path[1:], new)
    return copy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, 5),
    path=st.lists(st.integers(0, 50), max_size=5),
    new=JSON,
    raw=st.booleans(),
)
def test_translate_raises_only_payload_errors(
    which: int, path: list[int], new: Any, raw: bool
) -> None:
    adapter = _adapters()[which]
    sample = _samples()[adapter.name]
    body_value = new if raw else _replace_leaf(sample, path, new)
    headers = {"x-shopify-webhook-id": "w", "x-shopify-topic": "orders/create"}
    if adapter.name == "jd":
        body = samples.jd.signed_form("k", "s", body_value if isinstance(body_value, dict) else {})
        if raw:
            body = json.dumps(new).encode()
    else:
        body = json.dumps(body_value).encode()
    with contextlib.suppress(InvalidPayload):
        adapter.translate(RawPush(adapter.name, headers, body))


@settings(max_examples=150, deadline=None)
@given(
    which=st.integers(0, 5),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "x-shopify-hmac-sha256",
                "x-shopify-topic",
                "x-shopify-webhook-id",
                "app-id",
                "event-sign",
                "client-id",
                "event-type",
                QUERY_HEADER,
            ]
        ),
        st.text(max_size=40),
    ),
    body=st.binary(max_size=64),
)
def test_verify_raises_only_authentication_errors(
    which: int, headers: dict[str, str], body: bytes
) -> None:
    adapter = _adapters()[which]
    with contextlib.suppress(Unauthenticated, InvalidPayload):
        adapter.verify(RawPush(adapter.name, headers, body))
