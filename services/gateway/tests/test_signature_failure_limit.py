"""Rate limits around the signature check, against real Redis: forged pushes never spend a
platform's budget, and signature failures are limited per source address."""

from __future__ import annotations

from typing import Any

import httpx
from omslib.platforms.samples.shop import new_secret

Kit = Any


async def post(http: httpx.AsyncClient, secret: str, kit: Kit, n: int) -> httpx.Response:
    body, headers = kit.signed_push(secret, kit.order_body(f"S{n}"), msg_id=f"m{n}")
    return await http.post("/webhooks/shop", content=body, headers=headers)


async def test_forged_pushes_do_not_spend_the_platforms_budget(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit
) -> None:
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        shop_secret,
        OMS_GATEWAY_RATE_LIMITS='{"shop": "0.001:2"}',  # two pushes, then one per 1000 s
        OMS_GATEWAY_AUTH_FAILURE_RATE_LIMIT="off",
    )
    forger = new_secret()
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        forged = [(await post(http, forger, kit, n)).status_code for n in range(6)]
        genuine = [(await post(http, shop_secret, kit, 10 + n)).status_code for n in range(3)]
    assert forged == [401] * 6
    assert genuine == [202, 202, 429]  # the budget was whole when the genuine pushes came


async def test_signature_failures_over_the_per_address_limit_are_429_and_not_recorded(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit
) -> None:
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        shop_secret,
        OMS_GATEWAY_AUTH_FAILURE_RATE_LIMIT="0.001:3",
    )
    forger = new_secret()
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        answers = [await post(http, forger, kit, n) for n in range(6)]
        genuine = await post(http, shop_secret, kit, 99)
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429, 429]
    assert answers[-1].json()["error"]["reason"] == "TOO_MANY_FAILURES"
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert len(await kit.rejected_rows(running)) == 3  # nothing kept once over the limit
    # The same address with a valid signature is not held back by its failures.
    assert genuine.status_code == 202


async def test_the_failure_limit_can_be_turned_off(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit
) -> None:
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, OMS_GATEWAY_AUTH_FAILURE_RATE_LIMIT="off"
    )
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        statuses = {(await post(http, new_secret(), kit, n)).status_code for n in range(40)}
    assert statuses == {401}
