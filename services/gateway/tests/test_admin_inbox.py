"""Operator endpoints under /admin: list, show (with attempts), replay and import."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from oms_gateway.bootstrap import Running
from omslib.errors import InvalidArgument

Kit = Any
TOKEN = "test-admin-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def admin_gateway(make_gateway: Any, orders: Any, shop_secret: str) -> Running:
    service, _ = orders
    return await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, OMS_GATEWAY_ADMIN_TOKEN=TOKEN
    )


async def push(running: Running, secret: str, kit: Kit, order_id: str, msg_id: str) -> str:
    body, headers = kit.signed_push(secret, kit.order_body(order_id), msg_id=msg_id)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post("/webhooks/shop", content=body, headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["inbox_id"])


async def admin(running: Running, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=running.base_url, headers=AUTH, timeout=10) as http:
        return await http.request(method, path, **kwargs)


async def wait_state(running: Running, kit: Kit, entry_id: str, state: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        found.update((await admin(running, "GET", f"/admin/inbox/{entry_id}")).json())
        return found.get("state") == state

    await kit.eventually(reached, what=f"{entry_id} in {state}")
    return found


async def test_admin_api_is_not_mounted_without_a_token(gateway: Running) -> None:
    response = await admin(gateway, "GET", "/admin/inbox")
    assert response.status_code == 404
    async with httpx.AsyncClient(base_url=gateway.base_url) as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith("/admin")]


@pytest.mark.parametrize(
    ("header", "reason", "says"),
    [
        ({}, "ADMIN_TOKEN_REQUIRED", "send Authorization: Bearer"),
        ({"authorization": TOKEN}, "ADMIN_TOKEN_REQUIRED", "send Authorization: Bearer"),
        ({"authorization": "Bearer wrong-token-0123456789"}, "ADMIN_TOKEN_WRONG", "wrong token"),
    ],
)
async def test_admin_api_refuses_a_missing_or_wrong_token(
    admin_gateway: Running, header: dict[str, str], reason: str, says: str
) -> None:
    async with httpx.AsyncClient(base_url=admin_gateway.base_url) as http:
        response = await http.get("/admin/inbox", headers=header)
    assert response.status_code == 401
    assert response.json()["error"]["reason"] == reason
    assert says in response.json()["error"]["message"]
    assert TOKEN not in response.text and "wrong-token-0123456789" not in response.text


async def test_list_filters_by_state_and_platform_and_pages(
    admin_gateway: Running, shop_secret: str, kit: Kit
) -> None:
    ids = [await push(admin_gateway, shop_secret, kit, f"A{n}", f"msg_{n}") for n in range(5)]
    for entry_id in ids:
        await wait_state(admin_gateway, kit, entry_id, "DELIVERED")
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"state": "DELIVERED", "platform": "shop", "page_size": 2}
        if token:
            params["page_token"] = token
        page = (await admin(admin_gateway, "GET", "/admin/inbox", params=params)).json()
        seen += [entry["id"] for entry in page["entries"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == sorted(ids, reverse=True)
    dead = await admin(admin_gateway, "GET", "/admin/inbox", params={"state": "DEAD"})
    assert dead.json()["entries"] == []
    other = await admin(admin_gateway, "GET", "/admin/inbox", params={"platform": "douyin"})
    assert other.json()["entries"] == []
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    later = await admin(admin_gateway, "GET", "/admin/inbox", params={"received_from": future})
    assert later.json()["entries"] == []


async def test_show_has_raw_body_headers_and_attempts(
    admin_gateway: Running, shop_secret: str, kit: Kit
) -> None:
    entry_id = await push(admin_gateway, shop_secret, kit, "A1", "msg_show")
    shown = await wait_state(admin_gateway, kit, entry_id, "DELIVERED")
    assert json.loads(shown["body"])["order"]["id"] == "A1"
    assert shown["headers"]["webhook-id"] == "msg_show"
    (attempt,) = shown["delivery_attempts"]
    assert attempt["outcome"] == "delivered" and attempt["order_id"] == "ord-1"
    missing = await admin(admin_gateway, "GET", "/admin/inbox/NOPE")
    assert missing.status_code == 404


async def test_dead_letters_are_replayed_and_delivered(
    admin_gateway: Running, orders: Any, shop_secret: str, kit: Kit
) -> None:
    _, recorder = orders
    recorder.fail = InvalidArgument("unknown SKU")
    entry_id = await push(admin_gateway, shop_secret, kit, "A1", "msg_dead")
    dead = await wait_state(admin_gateway, kit, entry_id, "DEAD")
    assert "unknown SKU" in dead["last_error"]
    recorder.fail = None

    replayed = await admin(admin_gateway, "POST", "/admin/inbox/replay", json={"states": ["DEAD"]})
    assert replayed.json() == {"replayed": 1}
    shown = await wait_state(admin_gateway, kit, entry_id, "DELIVERED")
    assert [a["outcome"] for a in shown["delivery_attempts"]] == ["dead", "delivered"]
    assert recorder.request_ids() == ["shop:msg_dead", "shop:msg_dead"]


async def test_replaying_a_delivered_entry_reuses_its_request_id(
    admin_gateway: Running, orders: Any, shop_secret: str, kit: Kit
) -> None:
    _, recorder = orders
    entry_id = await push(admin_gateway, shop_secret, kit, "A1", "msg_again")
    await wait_state(admin_gateway, kit, entry_id, "DELIVERED")
    response = await admin(admin_gateway, "POST", f"/admin/inbox/{entry_id}/replay")
    assert response.json() == {"replayed": 1}

    async def twice() -> bool:
        return len(recorder.calls) == 2

    await kit.eventually(twice, what="a second delivery")
    shown = await wait_state(admin_gateway, kit, entry_id, "DELIVERED")
    assert recorder.request_ids() == ["shop:msg_again", "shop:msg_again"]
    assert shown["outcome"] == "DUPLICATE"


async def test_time_range_replay_and_unbounded_replay_is_refused(
    admin_gateway: Running, orders: Any, shop_secret: str, kit: Kit
) -> None:
    _, recorder = orders
    entry_id = await push(admin_gateway, shop_secret, kit, "A1", "msg_range")
    await wait_state(admin_gateway, kit, entry_id, "DELIVERED")
    refused = await admin(admin_gateway, "POST", "/admin/inbox/replay", json={})
    assert refused.status_code == 400
    assert refused.json()["error"]["reason"] == "REPLAY_SCOPE_MISSING"
    now = datetime.now(UTC)
    window = {
        "received_from": (now - timedelta(minutes=5)).isoformat(),
        "received_to": (now + timedelta(minutes=5)).isoformat(),
    }
    response = await admin(admin_gateway, "POST", "/admin/inbox/replay", json=window)
    assert response.json() == {"replayed": 1}

    async def twice() -> bool:
        return len(recorder.calls) == 2

    await kit.eventually(twice, what="a second delivery")


async def test_import_runs_each_request_through_verification_and_intake(
    admin_gateway: Running, shop_secret: str, kit: Kit
) -> None:
    hour_ago = int(time.time()) - 3600
    old_body, old_headers = kit.signed_push(
        shop_secret, kit.order_body("OLD"), msg_id="msg_old", timestamp=hour_ago
    )
    body, headers = kit.signed_push(shop_secret, kit.order_body("NEW"), msg_id="msg_new")
    forged, forged_headers = kit.signed_push("whsec_" + "QUFBQUFBQUFBQUFBQUFBQQ==", b"{}")
    at = datetime.fromtimestamp(hour_ago, UTC).isoformat()
    records = [
        {"method": "POST", "path": "/webhooks/shop", "headers": old_headers,
         "body": old_body.decode(), "time": at},
        {"method": "POST", "path": "/webhooks/shop", "headers": headers, "body": body.decode()},
        {"method": "POST", "path": "/webhooks/shop", "headers": headers, "body": body.decode()},
        {"method": "POST", "path": "/webhooks/shop", "headers": forged_headers,
         "body": forged.decode()},
        {"method": "POST", "path": "/webhooks/shop", "headers": old_headers,
         "body": old_body.decode()},
        {"method": "GET", "path": "/healthz"},
    ]  # fmt: skip
    response = await admin(admin_gateway, "POST", "/admin/inbox/import", json={"records": records})
    report = response.json()
    assert [r["status"] for r in report["results"]] == [
        "accepted", "accepted", "duplicate", "rejected", "rejected", "rejected",
    ]  # fmt: skip
    assert (report["accepted"], report["duplicate"], report["rejected"]) == (2, 1, 3)
    assert report["results"][3]["reason"] == "INVALID_SIGNATURE"
    # Without its original time, an hour-old push is checked against now: stale.
    assert report["results"][4]["reason"] == "STALE_TIMESTAMP"
    assert report["results"][5]["reason"] == "INVALID_IMPORT_RECORD"
    events = sorted(row.event_id for row in await kit.inbox_rows(admin_gateway))
    assert events == ["msg_new", "msg_old"]
