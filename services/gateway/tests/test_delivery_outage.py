"""Orders goes down and comes back: waiting deliveries resume within seconds, and an
outage never dead-letters an accepted push nor stretches its backoff to minutes.

Orders is the recording OrdersService from conftest, a real grpc.aio server stopped
and started again on the same port.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import httpx
from oms_gateway.bootstrap import Running
from omslib.errors import Unavailable
from omslib.testing.net import free_port

Kit = Any


async def push(running: Running, secret: str, kit: Kit, order_id: str) -> None:
    body, headers = kit.signed_push(secret, kit.order_body(order_id), msg_id=f"msg_{order_id}")
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        reply = await http.post("/webhooks/shop", content=body, headers=headers)
    assert reply.status_code == 202


async def test_deliveries_resume_when_orders_serves_again_not_after_their_backoff(
    make_gateway: Any, shop_secret: str, kit: Kit
) -> None:
    port = free_port()
    # Backoff that would reach minutes within a few failures, were it not for the
    # outage watch: the deliveries below can only be prompt if orders' health woke them.
    running = await make_gateway(
        f"127.0.0.1:{port}",
        shop_secret,
        OMS_GATEWAY_RETRY_BASE_SECONDS=600,
        OMS_GATEWAY_RETRY_CAP_SECONDS=600,
        OMS_GATEWAY_RETRY_OUTAGE_CAP_SECONDS=600,
        OMS_GATEWAY_RETRY_MAX_ATTEMPTS=2,
        OMS_GATEWAY_ORDERS_PROBE_SECONDS=0.2,
    )
    for n in range(5):
        await push(running, shop_secret, kit, f"OUT{n}")

    async def all_failed_once() -> bool:
        rows = await kit.inbox_rows(running)
        return all(row.state == "RECEIVED" and row.attempts >= 1 for row in rows)

    await kit.eventually(all_failed_once, what="every push failed while orders is down")
    for row in await kit.inbox_rows(running):
        assert row.last_error.startswith("ORDERS_UNREACHABLE"), row.last_error
        assert row.next_attempt_at is not None

    service, recorder = await kit.start_orders(port)
    try:

        async def delivered() -> bool:
            rows = await kit.inbox_rows(running)
            return [row.state for row in rows] == ["DELIVERED"] * 5

        # Their scheduled retries are up to 10 minutes away; the wake makes them due now.
        await kit.eventually(delivered, within=20, what="delivery once orders serves")
        assert sorted(recorder.request_ids()) == [f"shop:msg_OUT{n}" for n in range(5)]
    finally:
        await running.stop()
        await service.stop(0)


async def test_orders_down_behind_orders_is_retried_without_limit_a_few_seconds_apart(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit
) -> None:
    service, recorder = orders
    recorder.fail = Unavailable("inventory did not answer", reason="INVENTORY_UNAVAILABLE")
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        shop_secret,
        OMS_GATEWAY_RETRY_BASE_SECONDS=1,
        OMS_GATEWAY_RETRY_CAP_SECONDS=600,
        OMS_GATEWAY_RETRY_OUTAGE_CAP_SECONDS=0.2,
        OMS_GATEWAY_RETRY_MAX_ATTEMPTS=2,
    )
    await push(running, shop_secret, kit, "INV1")

    async def many_attempts() -> bool:
        (row,) = await kit.inbox_rows(running)
        assert row.state != "DEAD", row.last_error
        return bool(row.attempts >= 8)

    # Eight attempts, four beyond max_attempts: an outage is no verdict on the push,
    # and the backoff stays under the outage cap (8 uncapped waits would be minutes).
    await kit.eventually(many_attempts, within=30, what="eight attempts, none DEAD")
    (row,) = await kit.inbox_rows(running)
    waited = row.next_attempt_at.replace(tzinfo=UTC) - row.updated_at.replace(tzinfo=UTC)
    assert waited.total_seconds() <= 0.2
    recorder.fail = None

    async def delivered() -> bool:
        (row,) = await kit.inbox_rows(running)
        return bool(row.state == "DELIVERED")

    await kit.eventually(delivered, what="delivered once inventory is back")
