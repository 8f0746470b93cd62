"""Every HTTP platform against the real gateway and database: a correctly signed push is
stored and translated; a wrong signature, a tampered body, a stale timestamp (where the
scheme signs one), a missing header and a wrong app key / client id are 401 and store
nothing; a duplicate is processed once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from oms.orders.v1 import order_pb2
from oms_gateway.bootstrap import Running
from oms_gateway.platforms.app_signed import ACKNOWLEDGEMENT
from omslib.platforms import samples
from omslib.platforms.signing import body_md5
from omslib.platforms.signing import shopify as shopify_signing

Kit = Any
KEY = "app-key-123"
SECRET = "s3cret-for-tests"
SKUS = [("SKU-1", 2), ("SKU-2", 1)]
PAID = order_pb2.PLATFORM_ORDER_STATUS_PAID

ENV = {
    "OMS_PLATFORM_SHOPIFY_SECRET": SECRET,
    "OMS_PLATFORM_DOUYIN_KEY": KEY,
    "OMS_PLATFORM_DOUYIN_SECRET": SECRET,
    "OMS_PLATFORM_YOUZAN_ID": KEY,
    "OMS_PLATFORM_YOUZAN_SECRET": SECRET,
    "OMS_PLATFORM_TAOBAO_KEY": KEY,
    "OMS_PLATFORM_TAOBAO_SECRET": SECRET,
    "OMS_PLATFORM_JD_KEY": KEY,
    "OMS_PLATFORM_JD_SECRET": SECRET,
}


@dataclass
class Push:
    path: str
    body: bytes
    headers: dict[str, str]
    event_id: str
    order_id: str
    #: What the platform expects back (None: the gateway's own answer).
    answer: dict[str, Any] | None = None

    def with_headers(self, **changes: str | None) -> Push:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in changes}
        headers.update({k: v for k, v in changes.items() if v is not None})
        return Push(self.path, self.body, headers, self.event_id, self.order_id, self.answer)


def _query_change(push: Push, **changes: str | None) -> Push:
    path, _, query = push.path.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return Push(
        f"{path}?{urlencode(params)}",
        push.body,
        push.headers,
        push.event_id,
        push.order_id,
        push.answer,
    )


def _form_change(push: Push, **changes: str | None) -> Push:
    params = dict(parse_qsl(push.body.decode(), keep_blank_values=True))
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return Push(
        push.path,
        urlencode(params).encode(),
        push.headers,
        push.event_id,
        push.order_id,
        push.answer,
    )


def _compact(stamp: str) -> str:
    return stamp.replace("-", "").replace(":", "").replace(" ", "")


# --- one builder per platform --------------------------------------------------------------


def shopify_push(n: int, *, when: datetime | None = None) -> Push:
    order_id = 820982911946154500 + n
    body, headers = samples.shopify.sample_push(
        SECRET, order_id, SKUS, webhook_id=f"wh-{n}", unit_price="12.50", updated_at=when
    )
    return Push("/webhooks/shopify", body, headers, f"wh-{n}", str(order_id))


def douyin_push(n: int, *, when: datetime | None = None) -> Push:
    order_id = f"69{n:017d}"
    data = samples.douyin.sample_order_data(
        order_id, SKUS, unit_price=1250, updated_at=int(when.timestamp()) if when else None
    )
    body, headers = samples.douyin.sample_push(
        KEY, SECRET, [samples.douyin.sample_message(f"msg-{n}", data)]
    )
    return Push("/webhooks/douyin", body, headers, f"msg-{n}", order_id, ACKNOWLEDGEMENT)


def youzan_push(n: int, *, when: datetime | None = None) -> Push:
    tid = f"E2026112408000{n:010d}"
    body, headers = samples.youzan.sample_push(
        KEY, SECRET, tid, SKUS, unit_price="12.50", updated_at=when
    )
    envelope = json.loads(body)
    event = f"{envelope['type']}:{tid}:{envelope['version']}"
    return Push("/webhooks/youzan", body, headers, event, tid, ACKNOWLEDGEMENT)


def taobao_push(n: int, *, when: datetime | None = None, sign_method: str = "md5") -> Push:
    tid = f"{3900000000000000 + n}"
    query, body, headers = samples.taobao.sample_push(
        KEY, SECRET, tid, SKUS, unit_price="12.50", updated_at=when, sign_method=sign_method
    )
    modified = json.loads(body)["trade"]["modified"]
    answer = {"response": {"flag": "success", "code": "0", "message": "accepted"}}
    return Push(
        f"/webhooks/taobao?{query}",
        body,
        headers,
        f"{tid}:WAIT_SELLER_SEND_GOODS:{_compact(modified)}",
        tid,
        answer,
    )


def jd_push(n: int, *, when: datetime | None = None) -> Push:
    order_id = f"{290000000000 + n}"
    body, headers = samples.jd.sample_push(
        KEY, SECRET, order_id, SKUS, unit_price="12.50", updated_at=when
    )
    params = dict(parse_qsl(body.decode()))
    modified = json.loads(params["360buy_param_json"])["modified"]
    return Push(
        "/webhooks/jd",
        body,
        headers,
        f"{order_id}:WAIT_SELLER_STOCK_OUT:{_compact(modified)}",
        order_id,
    )


# --- the ways each platform's push can be refused --------------------------------------------


def _stale_taobao(push: Push) -> Push:
    old = datetime.now(UTC) - timedelta(minutes=11)
    return Push(
        f"/webhooks/taobao?{samples.taobao.signed_query(KEY, SECRET, push.body, timestamp=old)}",
        push.body,
        push.headers,
        push.event_id,
        push.order_id,
    )


def _future_taobao(push: Push) -> Push:
    later = datetime.now(UTC) + timedelta(minutes=11)
    return Push(
        f"/webhooks/taobao?{samples.taobao.signed_query(KEY, SECRET, push.body, timestamp=later)}",
        push.body,
        push.headers,
        push.event_id,
        push.order_id,
    )


def _jd_resigned(push: Push, *, key: str = KEY, timestamp: datetime | None = None) -> Push:
    params = dict(parse_qsl(push.body.decode()))
    order = json.loads(params["360buy_param_json"])
    body = samples.jd.signed_form(key, SECRET, order, timestamp=timestamp)
    return Push(push.path, body, push.headers, push.event_id, push.order_id)


Refusal = tuple[str, Callable[[Push], Push], str]


@dataclass
class Platform:
    name: str
    build: Callable[..., Push]
    refusals: list[Refusal] = field(default_factory=list)


PLATFORMS = [
    Platform(
        "shopify",
        shopify_push,
        [
            (
                "wrong-signature",
                lambda p: p.with_headers(
                    **{"x-shopify-hmac-sha256": shopify_signing.sign("other", p.body)}
                ),
                "INVALID_SIGNATURE",
            ),
            (
                "missing-hmac",
                lambda p: p.with_headers(**{"x-shopify-hmac-sha256": None}),
                "MISSING_SIGNATURE_HEADERS",
            ),
            (
                "missing-webhook-id",
                lambda p: p.with_headers(**{"x-shopify-webhook-id": None}),
                "MISSING_SIGNATURE_HEADERS",
            ),
            (
                "missing-topic",
                lambda p: p.with_headers(**{"x-shopify-topic": None}),
                "MISSING_SIGNATURE_HEADERS",
            ),
        ],
    ),
    Platform(
        "douyin",
        douyin_push,
        [
            (
                "wrong-signature",
                lambda p: p.with_headers(**{"event-sign": body_md5.sign(KEY, "other", p.body)}),
                "INVALID_SIGNATURE",
            ),
            (
                "missing-sign",
                lambda p: p.with_headers(**{"event-sign": None}),
                "MISSING_SIGNATURE_HEADERS",
            ),
            (
                "missing-app-id",
                lambda p: p.with_headers(**{"app-id": None}),
                "MISSING_SIGNATURE_HEADERS",
            ),
            (
                "wrong-app-key",
                lambda p: p.with_headers(
                    **samples.douyin.signed_headers("other-app", SECRET, p.body)
                ),
                "INVALID_SIGNATURE",
            ),
        ],
    ),
    Platform(
        "youzan",
        youzan_push,
        [
            (
                "wrong-signature",
                lambda p: p.with_headers(**{"event-sign": body_md5.sign(KEY, "other", p.body)}),
                "INVALID_SIGNATURE",
            ),
            (
                "missing-sign",
                lambda p: p.with_headers(**{"event-sign": None}),
                "MISSING_SIGNATURE_HEADERS",
            ),
            (
                "missing-client-id",
                lambda p: p.with_headers(**{"client-id": None}),
                "MISSING_SIGNATURE_HEADERS",
            ),
            (
                "missing-event-type",
                lambda p: p.with_headers(**{"event-type": None}),
                "MISSING_SIGNATURE_HEADERS",
            ),
            (
                "wrong-client-id",
                lambda p: p.with_headers(
                    **{
                        k.lower(): v
                        for k, v in samples.youzan.signed_headers(
                            "other-client", SECRET, p.body, "trade_TradePaid"
                        ).items()
                    }
                ),
                "INVALID_SIGNATURE",
            ),
        ],
    ),
    Platform(
        "taobao",
        taobao_push,
        [
            ("wrong-signature", lambda p: _query_change(p, sign="0" * 32), "INVALID_SIGNATURE"),
            ("missing-sign", lambda p: _query_change(p, sign=None), "MISSING_SIGNATURE_HEADERS"),
            (
                "missing-timestamp",
                lambda p: _query_change(p, timestamp=None),
                "MISSING_SIGNATURE_HEADERS",
            ),
            ("tampered-param", lambda p: _query_change(p, customerId="c2"), "INVALID_SIGNATURE"),
            (
                "wrong-app-key",
                lambda p: Push(
                    f"/webhooks/taobao?{samples.taobao.signed_query('other', SECRET, p.body)}",
                    p.body,
                    p.headers,
                    p.event_id,
                    p.order_id,
                ),
                "INVALID_SIGNATURE",
            ),
            ("stale-timestamp", _stale_taobao, "STALE_TIMESTAMP"),
            ("future-timestamp", _future_taobao, "STALE_TIMESTAMP"),
        ],
    ),
    Platform(
        "jd",
        jd_push,
        [
            ("wrong-signature", lambda p: _form_change(p, sign="0" * 32), "INVALID_SIGNATURE"),
            ("missing-sign", lambda p: _form_change(p, sign=None), "MISSING_SIGNATURE_HEADERS"),
            (
                "missing-timestamp",
                lambda p: _form_change(p, timestamp=None),
                "MISSING_SIGNATURE_HEADERS",
            ),
            ("wrong-app-key", lambda p: _jd_resigned(p, key="other"), "INVALID_SIGNATURE"),
            (
                "stale-timestamp",
                lambda p: _jd_resigned(p, timestamp=datetime.now(UTC) - timedelta(minutes=11)),
                "STALE_TIMESTAMP",
            ),
        ],
    ),
]
BY_NAME = {platform.name: platform for platform in PLATFORMS}
REFUSALS = [
    pytest.param(platform, make, reason, id=f"{platform.name}-{what}")
    for platform in PLATFORMS
    for what, make, reason in [
        *platform.refusals,
        (
            "tampered-body",
            lambda p: Push(
                p.path, p.body.replace(b"SKU-1", b"SKU-9"), p.headers, p.event_id, p.order_id
            ),
            "INVALID_SIGNATURE",
        ),
    ]
]


@pytest.fixture
async def gateway(make_gateway: Any, orders: Any, shop_secret: str) -> Running:
    service, _ = orders
    return await make_gateway(f"127.0.0.1:{service.bound_port}", shop_secret, **ENV)


@pytest.fixture
async def client(gateway: Running) -> Any:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        yield http


async def post(client: httpx.AsyncClient, push: Push) -> httpx.Response:
    return await client.post(push.path, content=push.body, headers=push.headers)


@pytest.mark.parametrize("platform", PLATFORMS, ids=[p.name for p in PLATFORMS])
async def test_signed_push_is_stored_translated_and_delivered(
    client: httpx.AsyncClient, gateway: Running, orders: Any, kit: Kit, platform: Platform
) -> None:
    push = platform.build(1)
    response = await post(client, push)
    assert response.status_code in (200, 202), response.text
    if push.answer is not None:
        assert response.json() == push.answer
    else:
        assert response.json()["status"] == "accepted"
    (row,) = await kit.inbox_rows(gateway)
    assert response.headers["x-oms-inbox-id"] == row.id
    assert (row.platform, row.event_id, bytes(row.body)) == (
        platform.name,
        push.event_id,
        push.body,
    )
    _, recorder = orders

    async def delivered() -> bool:
        return len(recorder.calls) == 1

    await kit.eventually(delivered, what="delivery to orders")
    call = recorder.calls[0]
    assert call.request_id == f"{platform.name}:{push.event_id}"
    snapshot = call.snapshot
    assert snapshot.platform_order_id == push.order_id
    assert snapshot.status == PAID
    assert (snapshot.total.minor_units, snapshot.total.currency_code) == (3750, "CNY")
    assert [(line.sku, line.quantity, line.unit_price.minor_units) for line in snapshot.lines] == [
        ("SKU-1", 2, 1250),
        ("SKU-2", 1, 1250),
    ]
    assert snapshot.shipping_address.province in ("Zhejiang", "浙江省", "浙江")
    assert snapshot.HasField("pay_time")
    assert abs(snapshot.update_time.seconds - time.time()) < 120


@pytest.mark.parametrize(("platform", "tamper", "reason"), REFUSALS)
async def test_unauthentic_push_is_401_and_nothing_is_stored(
    client: httpx.AsyncClient,
    gateway: Running,
    orders: Any,
    kit: Kit,
    platform: Platform,
    tamper: Callable[[Push], Push],
    reason: str,
) -> None:
    push = tamper(platform.build(2))
    response = await post(client, push)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["reason"] == reason
    assert await kit.inbox_rows(gateway) == []
    (rejected,) = await kit.rejected_rows(gateway)
    assert (rejected.platform, rejected.reason) == (platform.name, reason)
    _, recorder = orders
    assert recorder.calls == []


@pytest.mark.parametrize("platform", PLATFORMS, ids=[p.name for p in PLATFORMS])
async def test_duplicate_push_is_acknowledged_and_processed_once(
    client: httpx.AsyncClient, gateway: Running, orders: Any, kit: Kit, platform: Platform
) -> None:
    push = platform.build(3)
    first = await post(client, push)
    again = await post(client, push)
    assert first.status_code in (200, 202) and again.status_code == 200, again.text
    assert again.headers["x-oms-inbox-id"] == first.headers["x-oms-inbox-id"]
    if push.answer is None:
        assert again.json()["status"] == "duplicate"
    assert len(await kit.inbox_rows(gateway)) == 1
    _, recorder = orders

    async def delivered() -> bool:
        return len(recorder.calls) >= 1

    await kit.eventually(delivered, what="delivery")
    await gateway.gateway.worker.run_once()
    assert recorder.request_ids() == [f"{platform.name}:{push.event_id}"]


# Not pdd: it never takes HTTP pushes, so /webhooks/pdd is 401 configured or not
# (test_platform_pdd.py).
@pytest.mark.parametrize("name", ["shopify", "douyin", "youzan", "taobao", "jd"])
async def test_unconfigured_platform_is_503_naming_the_variables(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit, name: str
) -> None:
    service, _ = orders
    running = await make_gateway(f"127.0.0.1:{service.bound_port}", shop_secret)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post(f"/webhooks/{name}", content=b"{}")
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["reason"] == "PLATFORM_NOT_CONFIGURED"
    assert f"OMS_PLATFORM_{name.upper()}_SECRET" in error["message"]
    assert await kit.inbox_rows(running) == []


async def test_taobao_hmac_sha256_signature_is_accepted(
    client: httpx.AsyncClient, gateway: Running, kit: Kit
) -> None:
    push = taobao_push(4, sign_method="hmac-sha256")
    response = await post(client, push)
    assert response.status_code == 200, response.text
    (row,) = await kit.inbox_rows(gateway)
    assert row.event_id == push.event_id


async def test_douyin_signature_is_compared_case_insensitively(
    client: httpx.AsyncClient, gateway: Running, kit: Kit
) -> None:
    push = douyin_push(5)
    push = push.with_headers(**{"event-sign": push.headers["event-sign"].upper()})
    assert (await post(client, push)).status_code == 200
    assert len(await kit.inbox_rows(gateway)) == 1


async def test_douyin_push_of_several_messages_stores_and_dedupes_each(
    client: httpx.AsyncClient, gateway: Running, orders: Any, kit: Kit
) -> None:
    first = samples.douyin.sample_order_data("6900000000000000101", [("SKU-1", 1)])
    second = samples.douyin.sample_order_data(
        "6900000000000000102", [("SKU-2", 3)], status="pending"
    )
    third = samples.douyin.sample_order_data(
        "6900000000000000103", [("SKU-3", 1)], status="cancelled"
    )
    other = {"tag": "999", "msg_id": "m-other", "data": json.dumps({"unknown": 1})}
    body, headers = samples.douyin.sample_push(
        KEY,
        SECRET,
        [
            samples.douyin.sample_message("m-1", first),
            other,
            samples.douyin.sample_message("m-2", second),
        ],
    )
    response = await client.post("/webhooks/douyin", content=body, headers=headers)
    assert response.json() == {"code": 0, "msg": "success"}
    assert sorted(row.event_id for row in await kit.inbox_rows(gateway)) == ["m-1", "m-2"]
    # The platform sends m-2 again, batched with a new message: only m-3 is new.
    body, headers = samples.douyin.sample_push(
        KEY,
        SECRET,
        [samples.douyin.sample_message("m-2", second), samples.douyin.sample_message("m-3", third)],
    )
    response = await client.post("/webhooks/douyin", content=body, headers=headers)
    assert response.status_code == 200
    assert sorted(row.event_id for row in await kit.inbox_rows(gateway)) == ["m-1", "m-2", "m-3"]
    _, recorder = orders

    async def delivered() -> bool:
        return len(recorder.calls) >= 3

    await kit.eventually(delivered, what="three deliveries")
    await gateway.gateway.worker.run_once()
    by_request = {call.request_id: call.snapshot for call in recorder.calls}
    assert sorted(recorder.request_ids()) == ["douyin:m-1", "douyin:m-2", "douyin:m-3"]
    assert by_request["douyin:m-1"].platform_order_id == "6900000000000000101"
    assert by_request["douyin:m-2"].status == order_pb2.PLATFORM_ORDER_STATUS_CREATED
    assert by_request["douyin:m-3"].status == order_pb2.PLATFORM_ORDER_STATUS_CANCELLED
    assert [(line.sku, line.quantity) for line in by_request["douyin:m-2"].lines] == [("SKU-2", 3)]


@pytest.mark.parametrize("name", ["shopify", "douyin", "youzan", "taobao", "jd"])
async def test_signed_but_invalid_body_is_400_naming_the_field(
    client: httpx.AsyncClient, gateway: Running, kit: Kit, name: str
) -> None:
    push = BY_NAME[name].build(6)
    if name == "shopify":
        body = json.loads(push.body)
        body["line_items"][0]["quantity"] = 0
        raw = json.dumps(body).encode()
        push = Push(
            push.path,
            raw,
            {**push.headers, "x-shopify-hmac-sha256": shopify_signing.sign(SECRET, raw)},
            push.event_id,
            push.order_id,
        )
        field_name = "line_items.0.quantity"
    elif name == "douyin":
        data = samples.douyin.sample_order_data("1", [("SKU-1", 1)])
        data["sku_order_list"][0]["item_num"] = 0
        raw, headers = samples.douyin.sample_push(
            KEY, SECRET, [samples.douyin.sample_message("bad", data)]
        )
        push = Push(push.path, raw, headers, "bad", "1")
        field_name = "0.data.sku_order_list.0.item_num"
    elif name == "youzan":
        envelope = json.loads(push.body)
        envelope.pop("msg")
        raw = json.dumps(envelope).encode()
        push = Push(
            push.path,
            raw,
            samples.youzan.signed_headers(KEY, SECRET, raw, envelope["type"]),
            push.event_id,
            push.order_id,
        )
        field_name = "msg"
    elif name == "taobao":
        body = json.loads(push.body)
        body["trade"]["status"] = "TRADE_LOST"
        raw = json.dumps(body).encode()
        push = Push(
            f"/webhooks/taobao?{samples.taobao.signed_query(KEY, SECRET, raw)}",
            raw,
            push.headers,
            push.event_id,
            push.order_id,
        )
        field_name = "trade.status"
    else:
        order = samples.jd.sample_order("9", [("SKU-1", 1)])
        order["itemInfoList"][0]["jdPrice"] = "1.234"
        push = Push(push.path, samples.jd.signed_form(KEY, SECRET, order), push.headers, "x", "9")
        field_name = "360buy_param_json.itemInfoList.0.jdPrice"
    response = await post(client, push)
    assert response.status_code == 400, response.text
    assert field_name in response.json()["error"]["message"]
    assert await kit.inbox_rows(gateway) == []
