"""Delivery of stored pushes to OrdersService: success, duplicates, outages, dead letters, traces.

Orders is the recording OrdersService from conftest (a real grpc.aio server).
"""

from __future__ import annotations

from typing import Any

import httpx
from oms_gateway.bootstrap import Running
from omslib.errors import Aborted, FailedPrecondition, InvalidArgument
from omslib.testing.net import free_port
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

Kit = Any


async def push(
    running: Running, secret: str, kit: Kit, order_id: str, msg_id: str
) -> httpx.Response:
    body, headers = kit.signed_push(secret, kit.order_body(order_id), msg_id=msg_id)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        return await http.post("/webhooks/shop", content=body, headers=headers)


async def states(running: Running, kit: Kit) -> list[str]:
    return [row.state for row in await kit.inbox_rows(running)]


async def test_accepted_push_is_delivered_to_orders(
    gateway: Running, orders: Any, shop_secret: str, kit: Kit
) -> None:
    _, recorder = orders
    response = await push(gateway, shop_secret, kit, "A1", "msg_a1")
    assert response.status_code == 202

    async def delivered() -> bool:
        return await states(gateway, kit) == ["DELIVERED"]

    await kit.eventually(delivered, what="DELIVERED")
    (row,) = await kit.inbox_rows(gateway)
    assert (row.order_id, row.outcome, row.attempts) == ("ord-1", "CREATED", 1)
    assert row.lease_owner is None
    (call,) = recorder.calls
    assert call.request_id == "shop:msg_a1"
    assert call.snapshot.platform_order_id == "A1"
    assert call.snapshot.lines[0].sku == "SKU-1"
    assert call.snapshot.lines[0].quantity == 2


async def test_duplicate_push_is_delivered_once(
    gateway: Running, orders: Any, shop_secret: str, kit: Kit
) -> None:
    _, recorder = orders
    first = await push(gateway, shop_secret, kit, "A1", "msg_same")
    second = await push(gateway, shop_secret, kit, "A1", "msg_same")
    assert (first.status_code, second.status_code) == (202, 200)

    async def delivered() -> bool:
        return await states(gateway, kit) == ["DELIVERED"]

    await kit.eventually(delivered, what="DELIVERED")
    third = await push(gateway, shop_secret, kit, "A1", "msg_same")
    assert third.status_code == 200
    assert recorder.request_ids() == ["shop:msg_same"]


async def test_push_is_kept_and_retried_while_orders_is_down_then_delivered(
    make_gateway: Any, shop_secret: str, kit: Kit
) -> None:
    port = free_port()
    running = await make_gateway(f"127.0.0.1:{port}", shop_secret)
    response = await push(running, shop_secret, kit, "A1", "msg_down")
    assert response.status_code == 202

    async def retried_twice() -> bool:
        (row,) = await kit.inbox_rows(running)
        return bool(row.state == "RECEIVED" and row.attempts >= 2)

    await kit.eventually(retried_twice, what="two failed attempts")
    (row,) = await kit.inbox_rows(running)
    assert "UNAVAILABLE" in row.last_error

    service, recorder = await kit.start_orders(port)
    try:

        async def delivered() -> bool:
            return await states(running, kit) == ["DELIVERED"]

        await kit.eventually(delivered, within=60, what="delivery after orders started")
        assert recorder.request_ids() == ["shop:msg_down"]
    finally:
        await running.stop()
        await service.stop(0)


async def test_permanent_error_makes_the_entry_dead(
    gateway: Running, orders: Any, shop_secret: str, kit: Kit
) -> None:
    _, recorder = orders
    recorder.fail = InvalidArgument("lines[0].sku is unknown", reason="UNKNOWN_SKU")
    await push(gateway, shop_secret, kit, "A1", "msg_bad")

    async def dead() -> bool:
        return await states(gateway, kit) == ["DEAD"]

    await kit.eventually(dead, what="DEAD")
    (row,) = await kit.inbox_rows(gateway)
    assert row.attempts == 1
    assert "INVALID_ARGUMENT" in row.last_error and "UNKNOWN_SKU" in row.last_error
    assert len(recorder.calls) == 1


async def test_failed_precondition_is_permanent_too(
    gateway: Running, orders: Any, shop_secret: str, kit: Kit
) -> None:
    _, recorder = orders
    recorder.fail = FailedPrecondition("cannot go back", reason="INVALID_TRANSITION")
    await push(gateway, shop_secret, kit, "A1", "msg_fp")

    async def dead() -> bool:
        return await states(gateway, kit) == ["DEAD"]

    await kit.eventually(dead, what="DEAD")


async def test_transient_errors_stop_after_max_attempts(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit
) -> None:
    service, recorder = orders
    recorder.fail = Aborted("the order changed meanwhile", reason="CONCURRENT_MODIFICATION")
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, OMS_GATEWAY_RETRY_MAX_ATTEMPTS=3
    )
    await push(running, shop_secret, kit, "A1", "msg_flaky")

    async def dead() -> bool:
        return await states(running, kit) == ["DEAD"]

    await kit.eventually(dead, what="DEAD after 3 attempts")
    (row,) = await kit.inbox_rows(running)
    assert row.attempts == 3
    assert "gave up after 3 attempts" in row.last_error
    assert len(recorder.calls) == 3


async def test_delivery_continues_the_trace_of_the_http_request(
    gateway: Running, orders: Any, shop_secret: str, kit: Kit, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    await push(gateway, shop_secret, kit, "A7", "msg_trace")

    async def delivered() -> bool:
        return await states(gateway, kit) == ["DELIVERED"]

    await kit.eventually(delivered, what="DELIVERED")
    (row,) = await kit.inbox_rows(gateway)
    trace_id = int(row.traceparent.split("-")[1], 16)
    finished = [span for span in spans.get_finished_spans() if span.context.trace_id == trace_id]
    names = {span.name for span in finished}
    assert "gateway.deliver" in names
    assert any("SyncPlatformOrder" in name for name in names)
    (root,) = [span for span in finished if span.parent is None]
    assert root.attributes is not None
    assert (root.name, root.kind) == ("POST /webhooks/{platform}", SpanKind.SERVER)
    assert root.attributes["http.route"] == "/webhooks/{platform}"
    assert root.attributes["http.status_code"] == 202
    assert root.attributes["oms.platform"] == "shop"
    assert root.attributes["oms.platform_order_id"] == "A7"
    deliver = next(span for span in finished if span.name == "gateway.deliver")
    assert deliver.attributes is not None and deliver.attributes["oms.order_id"] == "ord-1"
