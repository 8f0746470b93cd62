"""The Pinduoduo connector against a local WebSocket server that plays the platform:
signed connection URL, heartbeats, store-then-acknowledge, redelivery after a dropped
connection (reconnect with backoff), and no HTTP intake."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import websockets
from oms.orders.v1 import order_pb2
from oms_gateway.adapters.orm import inbox
from oms_gateway.service_layer.intake import IntakeService
from omslib.db import create_engine
from omslib.platforms.samples.pdd import sample_frame
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

Kit = Any
CLIENT_ID = "pdd-client-1"
SECRET = "pdd-secret-1"


@dataclass
class FakePdd:
    """Plays Pinduoduo's message service: checks the signed path, sends the queued frames
    of each connection, records acks and heartbeats, and can drop a connection."""

    #: Frames to send, one list per connection (in order of connection).
    script: list[list[dict[str, Any]]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    acks: list[Any] = field(default_factory=list)
    heartbeats: int = 0
    refused: int = 0
    #: Called with the message id when its ack arrives (to check it was stored first).
    on_ack: Any = None
    connections: int = 0
    port: int = 0
    all_acked: asyncio.Event = field(default_factory=asyncio.Event)

    async def handler(self, ws: Any) -> None:
        path = ws.request.path
        parts = path.split("/")
        # /message/{client_id}/{timestamp_ms}/{sign}
        if len(parts) != 5 or parts[1] != "message" or parts[2] != CLIENT_ID:
            self.refused += 1
            await ws.close(4001, "bad path")
            return
        expected = base64.b64encode(
            hashlib.md5(f"{CLIENT_ID}{parts[3]}{SECRET}".encode()).digest()
        ).decode()
        if unquote(parts[4]) != expected:
            self.refused += 1
            await ws.close(4001, "bad sign")
            return
        self.paths.append(path)
        index = self.connections
        self.connections += 1
        frames = self.script[index] if index < len(self.script) else []
        drop_after = index < len(self.script) - 1  # every scripted connection but the last
        pending = {frame["id"] for frame in frames}
        for frame in frames:
            await ws.send(json.dumps(frame, ensure_ascii=False))
        try:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("commandType") == "HeartBeat":
                    self.heartbeats += 1
                elif message.get("commandType") == "Ack":
                    if self.on_ack is not None:
                        await self.on_ack(message["id"])
                    self.acks.append(message["id"])
                    pending.discard(message["id"])
                    if not pending and drop_after:
                        await ws.close(1011, "simulated drop")
                        return
                    if not pending and index == len(self.script) - 1:
                        self.all_acked.set()
        except websockets.ConnectionClosed:
            pass


@pytest.fixture
async def fake_pdd() -> AsyncIterator[FakePdd]:
    fake = FakePdd()
    async with websockets.serve(fake.handler, "127.0.0.1", 0) as server:
        fake.port = server.sockets[0].getsockname()[1]
        yield fake


def pdd_env(fake: FakePdd) -> dict[str, Any]:
    return {
        "OMS_PLATFORM_PDD_ID": CLIENT_ID,
        "OMS_PLATFORM_PDD_SECRET": SECRET,
        "OMS_PLATFORM_PDD_WS_URL": f"ws://127.0.0.1:{fake.port}",
        "OMS_PLATFORM_PDD_HEARTBEAT_SECONDS": 0.1,
        "OMS_PLATFORM_PDD_RECONNECT_MAX_SECONDS": 0.3,
    }


async def test_messages_are_stored_before_ack_and_redelivered_after_a_drop(
    make_gateway: Any,
    make_database_url: Any,
    orders: Any,
    shop_secret: str,
    kit: Kit,
    fake_pdd: FakePdd,
) -> None:
    first = sample_frame(1001, "241124-000000001", [("SKU-1", 2)], unit_price="12.50")
    second = sample_frame(1002, "241124-000000002", [("SKU-2", 1)], status="shipped")
    # Connection 1 delivers the first message and drops; connection 2 sends it again
    # (the platform is not sure it arrived) with a new one.
    fake_pdd.script = [[first], [first, second]]
    service, recorder = orders
    url = make_database_url("gateway")
    stored_at_ack: list[list[str]] = []
    engine = create_engine(url)

    async def on_ack(message_id: Any) -> None:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(inbox.c.event_id))).all()
        stored_at_ack.append([row.event_id for row in rows])

    fake_pdd.on_ack = on_ack
    try:
        running = await make_gateway(
            f"127.0.0.1:{service.bound_port}", shop_secret, db=url, **pdd_env(fake_pdd)
        )
        await asyncio.wait_for(fake_pdd.all_acked.wait(), 15)
    finally:
        await engine.dispose()
    assert fake_pdd.connections == 2 and fake_pdd.refused == 0
    assert fake_pdd.acks == [1001, 1001, 1002]
    # Every ack came after its message was in the inbox.
    assert "1001" in stored_at_ack[0] and "1002" in stored_at_ack[2]
    rows = await kit.inbox_rows(running)
    assert sorted(row.event_id for row in rows) == ["1001", "1002"]
    assert all(
        row.platform == "pdd" and row.headers["x-oms-transport"] == "websocket" for row in rows
    )

    async def delivered() -> bool:
        return len(recorder.calls) >= 2

    await kit.eventually(delivered, what="deliveries")
    await running.gateway.worker.run_once()
    by_request = {call.request_id: call.snapshot for call in recorder.calls}
    assert sorted(by_request) == ["pdd:1001", "pdd:1002"]
    snapshot = by_request["pdd:1001"]
    assert snapshot.platform_order_id == "241124-000000001"
    assert snapshot.status == order_pb2.PLATFORM_ORDER_STATUS_PAID
    assert (snapshot.total.minor_units, snapshot.total.currency_code) == (2500, "CNY")
    assert [(line.sku, line.quantity, line.unit_price.minor_units) for line in snapshot.lines] == [
        ("SKU-1", 2, 1250)
    ]
    assert snapshot.shipping_address.province == "浙江省"
    assert by_request["pdd:1002"].status == order_pb2.PLATFORM_ORDER_STATUS_SHIPPED


async def test_connector_sends_heartbeats_and_reconnects_when_the_server_restarts(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit
) -> None:
    fake = FakePdd(script=[[]])
    service, _ = orders
    server = await websockets.serve(fake.handler, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    running = await make_gateway(f"127.0.0.1:{service.bound_port}", shop_secret, **pdd_env(fake))
    (connector,) = running.gateway.connectors

    async def beating() -> bool:
        return fake.heartbeats >= 2

    await kit.eventually(beating, within=10, what="heartbeats")
    # The platform goes away and comes back on the same port: the connector reconnects.
    server.close()
    await server.wait_closed()

    async def disconnected() -> bool:
        return not connector.connected.is_set()

    await kit.eventually(disconnected, within=10, what="the connector to notice")
    frame = sample_frame(2001, "241124-000000009", [("SKU-1", 1)])
    fake.script = [[], [frame]]  # the second connection gets a message
    server = await websockets.serve(fake.handler, "127.0.0.1", fake.port)
    try:

        async def acked() -> bool:
            return 2001 in fake.acks

        await kit.eventually(acked, within=15, what="a message after reconnecting")
        assert connector.connections >= 2
        assert [row.event_id for row in await kit.inbox_rows(running)] == ["2001"]
    finally:
        server.close()
        await server.wait_closed()


async def test_http_pushes_to_pdd_are_refused(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit, fake_pdd: FakePdd
) -> None:
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, **pdd_env(fake_pdd)
    )
    frame = sample_frame(3001, "241124-000000003", [("SKU-1", 1)])
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post("/webhooks/pdd", json=frame)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["reason"] == "INVALID_SIGNATURE"
    assert await kit.inbox_rows(running) == []


async def test_invalid_message_is_recorded_as_rejected_and_acknowledged(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit, fake_pdd: FakePdd
) -> None:
    frame = sample_frame(4001, "241124-000000004", [("SKU-1", 1)])
    content = json.loads(frame["message"]["content"])
    content["item_list"][0]["goods_count"] = 0
    frame["message"]["content"] = json.dumps(content)
    fake_pdd.script = [[frame]]
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, **pdd_env(fake_pdd)
    )
    await asyncio.wait_for(fake_pdd.all_acked.wait(), 15)
    assert await kit.inbox_rows(running) == []
    (rejected,) = await kit.rejected_rows(running)
    assert rejected.platform == "pdd" and "goods_count" in rejected.message


async def test_message_is_not_acknowledged_when_the_inbox_cannot_store_it(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit, fake_pdd: FakePdd
) -> None:
    frame = sample_frame(5001, "241124-000000005", [("SKU-1", 1)])
    # The platform sends the message on the first connection and, unacknowledged, again
    # on the next one.
    fake_pdd.script = [[frame], [frame]]
    service, _ = orders
    failures = [OperationalError("INSERT", {}, Exception("database is down"))]
    original = IntakeService._store

    async def flaky_store(self: IntakeService, entries: Any) -> Any:
        if failures:
            raise failures.pop()
        return await original(self, entries)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(IntakeService, "_store", flaky_store)
        running = await make_gateway(
            f"127.0.0.1:{service.bound_port}", shop_secret, **pdd_env(fake_pdd)
        )
        await asyncio.wait_for(fake_pdd.all_acked.wait(), 15)
    assert fake_pdd.connections == 2
    assert fake_pdd.acks == [5001]  # only once it was stored
    assert [row.event_id for row in await kit.inbox_rows(running)] == ["5001"]


async def test_http_pushes_to_pdd_are_refused_with_401_when_pdd_is_not_configured(
    gateway: Any, kit: Kit
) -> None:
    frame = sample_frame(3002, "241124-000000005", [("SKU-1", 1)])
    async with httpx.AsyncClient(base_url=gateway.base_url) as http:
        response = await http.post("/webhooks/pdd", json=frame)
    assert response.status_code == 401, response.text  # as docs/platforms.md says; not 503
    assert response.json()["error"]["reason"] == "INVALID_SIGNATURE"
    assert "WebSocket" in response.json()["error"]["message"]
    assert await kit.inbox_rows(gateway) == []
