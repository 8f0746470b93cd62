"""The HTTP contract of POST /webhooks/{platform}, against the real server and database."""

from __future__ import annotations

import json
import time
from hashlib import sha256
from typing import Any

import httpx
import pytest
from oms_gateway.bootstrap import Running, build
from omslib.platforms.samples.shop import new_secret
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

Kit = Any


def assert_error(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert error["reason"] == reason
    assert error["message"]
    return dict(error)


async def test_verified_push_is_stored_then_accepted(
    client: httpx.AsyncClient, gateway: Running, shop_secret: str, kit: Kit
) -> None:
    body, headers = kit.signed_push(shop_secret, kit.order_body("A1"), msg_id="msg_ok")
    response = await client.post("/webhooks/shop", content=body, headers=headers)
    assert response.status_code == 202, response.text
    payload = response.json()
    assert payload["status"] == "accepted"
    (row,) = await kit.inbox_rows(gateway)
    assert row.id == payload["inbox_id"]
    assert (row.platform, row.event_id) == ("shop", "msg_ok")
    assert bytes(row.body) == body
    assert row.headers["webhook-id"] == "msg_ok"
    assert row.traceparent and row.traceparent.startswith("00-")


async def test_duplicate_event_answers_200_with_the_original_inbox_id(
    client: httpx.AsyncClient, gateway: Running, shop_secret: str, kit: Kit
) -> None:
    body, headers = kit.signed_push(shop_secret, kit.order_body("A1"), msg_id="msg_dup")
    first = await client.post("/webhooks/shop", content=body, headers=headers)
    again = await client.post("/webhooks/shop", content=body, headers=headers)
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "inbox_id": first.json()["inbox_id"]}
    assert len(await kit.inbox_rows(gateway)) == 1


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b), "INVALID_SIGNATURE"),
        (lambda h, b: (h, b + b" "), "INVALID_SIGNATURE"),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b),
            "MISSING_SIGNATURE_HEADERS",
        ),
        (
            lambda h, b: ({k: v for k, v in h.items() if not k.startswith("webhook")}, b),
            "MISSING_SIGNATURE_HEADERS",
        ),
    ],
    ids=["wrong-signature", "tampered-body", "missing-id", "no-headers"],
)
async def test_unauthenticated_push_is_401_recorded_as_rejected_and_not_stored(
    client: httpx.AsyncClient,
    gateway: Running,
    shop_secret: str,
    kit: Kit,
    tamper: Any,
    reason: str,
) -> None:
    body, headers = kit.signed_push(shop_secret, kit.order_body("A1"))
    headers, body = tamper(headers, body)
    response = await client.post("/webhooks/shop", content=body, headers=headers)
    assert_error(response, 401, reason)
    assert await kit.inbox_rows(gateway) == []
    (rejected,) = await kit.rejected_rows(gateway)
    assert (rejected.platform, rejected.reason) == ("shop", reason)
    # Bounded metadata only: the body's length and hash, never the body or header values.
    assert (rejected.body_bytes, rejected.body_sha256) == (len(body), sha256(body).hexdigest())
    assert rejected.source == "127.0.0.1"
    assert "content-length" in rejected.header_names
    assert not any(value in repr(tuple(rejected)) for value in headers.values())


async def test_a_refused_push_has_its_server_span_in_the_senders_trace(
    client: httpx.AsyncClient, kit: Kit, spans: InMemorySpanExporter
) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    body, headers = kit.signed_push(new_secret(), kit.order_body("A1"))
    headers["traceparent"] = f"00-{trace_id}-{parent_id}-01"
    spans.clear()

    response = await client.post("/webhooks/shop", content=body, headers=headers)

    assert response.status_code == 401
    (span,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert span.name == "POST /webhooks/{platform}"
    assert (span.context.trace_id, span.parent.span_id) == (int(trace_id, 16), int(parent_id, 16))
    assert span.attributes is not None
    assert span.attributes["http.status_code"] == 401
    assert span.attributes["oms.platform"] == "shop"
    assert span.status.status_code is not StatusCode.ERROR  # the sender's fault, not ours


async def test_push_signed_with_another_secret_is_401(
    client: httpx.AsyncClient, gateway: Running, kit: Kit
) -> None:
    body, headers = kit.signed_push(new_secret(), kit.order_body("A1"))
    assert_error(
        await client.post("/webhooks/shop", content=body, headers=headers), 401, "INVALID_SIGNATURE"
    )
    assert await kit.inbox_rows(gateway) == []


@pytest.mark.parametrize("skew", [-301, 301])
async def test_stale_or_future_timestamp_is_401(
    client: httpx.AsyncClient, gateway: Running, shop_secret: str, kit: Kit, skew: int
) -> None:
    body, headers = kit.signed_push(
        shop_secret, kit.order_body("A1"), timestamp=int(time.time()) + skew
    )
    assert_error(
        await client.post("/webhooks/shop", content=body, headers=headers), 401, "STALE_TIMESTAMP"
    )
    assert await kit.inbox_rows(gateway) == []


@pytest.mark.parametrize(
    ("mutate", "reason", "field"),
    [
        (lambda b: b.__setitem__("type", "order.lost"), "INVALID_PAYLOAD", "type"),
        (
            lambda b: b["order"]["lines"][0].__setitem__("quantity", 0),
            "INVALID_PAYLOAD",
            "order.lines.0.quantity",
        ),
        (
            lambda b: b["order"]["lines"][0].__setitem__("unit_price", -1),
            "INVALID_PAYLOAD",
            "order.lines.0.unit_price",
        ),
        (lambda b: b["order"].pop("buyer"), "INVALID_PAYLOAD", "order.buyer"),
    ],
    ids=["unknown-type", "zero-quantity", "negative-price", "missing-buyer"],
)
async def test_invalid_body_is_400_naming_the_field_and_not_stored(
    client: httpx.AsyncClient,
    gateway: Running,
    shop_secret: str,
    kit: Kit,
    mutate: Any,
    reason: str,
    field: str,
) -> None:
    order = kit.order_body("A1")
    mutate(order)
    body, headers = kit.signed_push(shop_secret, order)
    error = assert_error(
        await client.post("/webhooks/shop", content=body, headers=headers), 400, reason
    )
    assert field in error["message"]
    assert await kit.inbox_rows(gateway) == []


async def test_malformed_json_is_400_and_not_stored(
    client: httpx.AsyncClient, gateway: Running, shop_secret: str, kit: Kit
) -> None:
    body, headers = kit.signed_push(shop_secret, b'{"type": "order.created", ')
    assert_error(
        await client.post("/webhooks/shop", content=body, headers=headers), 400, "MALFORMED_JSON"
    )
    assert await kit.inbox_rows(gateway) == []


async def test_body_is_validated_only_after_the_signature(
    client: httpx.AsyncClient, gateway: Running, kit: Kit
) -> None:
    body, headers = kit.signed_push(new_secret(), b"not json at all")
    assert_error(
        await client.post("/webhooks/shop", content=body, headers=headers), 401, "INVALID_SIGNATURE"
    )


async def test_unknown_platform_is_404_and_not_stored(
    client: httpx.AsyncClient, gateway: Running, shop_secret: str, kit: Kit
) -> None:
    body, headers = kit.signed_push(shop_secret, kit.order_body("A1"))
    error = assert_error(
        await client.post("/webhooks/nowhere", content=body, headers=headers),
        404,
        "UNKNOWN_PLATFORM",
    )
    assert "shop" in error["message"]
    assert await kit.inbox_rows(gateway) == []
    assert await kit.rejected_rows(gateway) == []


async def test_body_over_the_limit_is_413_before_reading_it(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit
) -> None:
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, OMS_GATEWAY_MAX_BODY_BYTES=512
    )
    order = kit.order_body("A1")
    order["order"]["buyer"]["name"] = "x" * 1000
    body, headers = kit.signed_push(shop_secret, order)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        declared = await http.post("/webhooks/shop", content=body, headers=headers)
        assert_error(declared, 413, "PAYLOAD_TOO_LARGE")

        async def chunks() -> Any:  # no Content-Length: chunked transfer
            for start in range(0, len(body), 100):
                yield body[start : start + 100]

        streamed = await http.post("/webhooks/shop", content=chunks(), headers=headers)
        assert_error(streamed, 413, "PAYLOAD_TOO_LARGE")
    assert await kit.inbox_rows(running) == []


async def test_unconfigured_platform_is_503_saying_which_variable_to_set(
    make_gateway: Any, orders: Any, kit: Kit
) -> None:
    service, _ = orders
    running = await make_gateway(f"127.0.0.1:{service.bound_port}", None)
    body, headers = kit.signed_push(new_secret(), kit.order_body("A1"))
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post("/webhooks/shop", content=body, headers=headers)
    error = assert_error(response, 503, "PLATFORM_NOT_CONFIGURED")
    assert "OMS_PLATFORM_SHOP_SECRET" in error["message"]
    assert await kit.inbox_rows(running) == []


async def test_database_down_is_503_with_retry_after_and_never_2xx(
    shop_secret: str, kit: Kit
) -> None:
    # Nothing listens on port 1: every connection attempt is refused.
    settings = kit.gateway_settings(
        "postgresql://nobody@127.0.0.1:1/gateway", "127.0.0.1:1", shop_secret
    )
    gateway = build(settings)
    body, headers = kit.signed_push(shop_secret, kit.order_body("A1"))
    try:
        transport = httpx.ASGITransport(app=gateway.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            response = await http.post("/webhooks/shop", content=body, headers=headers)
            ready = await http.get("/readyz")
    finally:
        await gateway.close()
    assert_error(response, 503, "INBOX_UNAVAILABLE")
    assert int(response.headers["retry-after"]) > 0
    assert_error(ready, 503, "NOT_READY")
    assert ready.json()["checks"]["database"] != "ok"


async def test_framework_errors_use_the_same_json_shape(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/no/such/route"), 404, "NOT_FOUND")
    assert_error(await client.get("/webhooks/shop"), 405, "METHOD_NOT_ALLOWED")


async def test_healthz_is_always_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_orders(client: httpx.AsyncClient, orders: Any) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "orders": "ok"}
    service, _ = orders
    await service.stop(0)
    not_ready = await client.get("/readyz")
    error = assert_error(not_ready, 503, "NOT_READY")
    assert "orders" in error["message"] and "database" not in error["message"]


async def test_openapi_documents_the_shop_body(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    assert {"ShopWebhook", "ShopOrder", "ShopLine"} <= set(schemas)
    operation = spec["paths"]["/webhooks/{platform}"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    # One body model per platform (shop, shopify, douyin, ...).
    assert {"$ref": "#/components/schemas/ShopWebhook"} in body_schema.get("oneOf", [body_schema])
    assert {"202", "200", "400", "401", "404", "413", "503"} <= set(operation["responses"])
    assert json.dumps(schemas["ShopLine"])  # serialisable
