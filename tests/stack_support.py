"""Helpers for cross-service tests: start the stack, sign pushes, wait for outcomes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
from oms.inventory.v1 import inventory_service_pb2_grpc
from oms_cli.demo_catalogue import seed_demo_catalogue
from oms_cli.stack import DEV_SHOP_SECRET, ServiceExited, Stack, StackConfig
from omslib.ids import new_id
from omslib.platforms.samples.shop import sample_shop_order, sign_standard_webhook
from omslib.testing.net import free_port

#: The gateway's admin token in a stack started here (tests read its inbox with it).
STACK_ADMIN_TOKEN = "stack-tests-admin-token-0123456789"


def start_stack(
    var_dir: Path,
    database_url: Callable[[str], str],
    redis_url: str,
    extra_env: dict[str, str] | None = None,
) -> Stack:
    """Start the four services on free ports with fresh databases and seed the demo catalogue."""
    config = StackConfig(
        var_dir=var_dir,
        ports={name: free_port() for name in ("gateway", "orders", "inventory", "aftersales")},
        database_urls={
            name: database_url(name) for name in ("gateway", "orders", "inventory", "aftersales")
        },
        redis_url=redis_url,
        extra_env={
            "OMS_PLATFORM_SHOP_SECRET": DEV_SHOP_SECRET,
            "OMS_GATEWAY_ADMIN_TOKEN": STACK_ADMIN_TOKEN,
            **(extra_env or {}),
        },
    )
    stack = Stack(config)
    stack.start(timeout=90)
    asyncio.run(_seed(stack.addr("inventory")))
    return stack


async def _seed(addr: str) -> None:
    async with grpc.aio.insecure_channel(addr) as channel:
        await seed_demo_catalogue(inventory_service_pb2_grpc.InventoryServiceStub(channel))


def signed_shop_push(
    order_id: str,
    lines: list[tuple[str, int]],
    *,
    secret: str = DEV_SHOP_SECRET,
    timestamp: int | None = None,
    **order_fields: object,
) -> tuple[bytes, dict[str, str]]:
    """A web-shop push body and its Standard Webhooks headers."""
    body = json.dumps(sample_shop_order(order_id, lines, **order_fields)).encode()
    headers = sign_standard_webhook(
        secret, f"msg_{new_id()}", int(time.time()) if timestamp is None else timestamp, body
    )
    headers["content-type"] = "application/json"
    return body, headers


def post_push(
    stack: Stack, body: bytes, headers: dict[str, str], platform: str = "shop"
) -> httpx.Response:
    return httpx.post(
        f"{stack.gateway_url}/webhooks/{platform}", content=body, headers=headers, timeout=10
    )


async def restart_service(stack: Stack, service: str) -> None:
    """Start a killed service again and wait until it is healthy. Forking a (gRPC-busy)
    test process can, rarely, kill the child before it execs (grpc's fork handlers);
    such a start is simply retried."""
    for attempt in range(3):
        await asyncio.to_thread(stack.start_service, service)
        try:
            await asyncio.to_thread(stack.wait_healthy, service)
            return
        except ServiceExited:
            if attempt == 2:
                raise


def inbox_entries(stack: Stack, admin_token: str, **params: Any) -> list[dict[str, Any]]:
    """Every gateway inbox entry (the admin API, all pages); ``params`` filter them."""
    entries: list[dict[str, Any]] = []
    params = {"page_size": 500, **params}
    while True:
        reply = httpx.get(
            f"{stack.gateway_url}/admin/inbox",
            params=params,
            headers={"authorization": f"Bearer {admin_token}"},
            timeout=10,
        )
        reply.raise_for_status()
        page = reply.json()
        entries += page["entries"]
        if not page["next_page_token"]:
            return entries
        params["page_token"] = page["next_page_token"]
