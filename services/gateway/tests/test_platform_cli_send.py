"""`oms send <platform>` builds pushes the gateway accepts, with the dev credentials that
`make run` configures."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from oms_cli.commands.send import SUPPORTED_PLATFORMS, build_push
from oms_cli.stack import DEV_PLATFORM_ENV, DEV_SHOP_SECRET

Kit = Any


@pytest.mark.parametrize("platform", SUPPORTED_PLATFORMS)
async def test_cli_sample_push_is_accepted(
    make_gateway: Any, orders: Any, kit: Kit, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [*DEV_PLATFORM_ENV, "OMS_PLATFORM_SHOP_SECRET"]:
        monkeypatch.delenv(name, raising=False)
    service, recorder = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        DEV_SHOP_SECRET,
        OMS_ENV="development",
        **DEV_PLATFORM_ENV,
    )
    push = build_push(
        platform,
        [("TEE-WHITE-M", 2)],
        order_id=None,
        status="paid",
        province=None,
        secret=None,
        key=None,
    )
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        reply = await http.post(push.path, content=push.body, headers=push.headers)
    assert reply.status_code in (200, 202), reply.text

    async def delivered() -> bool:
        return len(recorder.calls) == 1

    await kit.eventually(delivered, what="delivery")
    assert recorder.calls[0].snapshot.platform_order_id == push.order_id
