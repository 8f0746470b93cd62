"""The admin token is checked from the request head, before any body is read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from oms_gateway.bootstrap import Running

TOKEN = "test-admin-token-0123456789"


@pytest.fixture
async def admin_gateway(make_gateway: Any, orders: Any, shop_secret: str) -> Running:
    service, _ = orders
    return await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, OMS_GATEWAY_ADMIN_TOKEN=TOKEN
    )


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"records": [' + b'{"x": 1},' * 200_000 + b"{}]}", b""],
    ids=["malformed json", "a large body", "empty"],
)
@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}, {"authorization": "Basic x"}],
    ids=["no token", "wrong token", "no scheme", "basic"],
)
async def test_an_admin_request_without_the_token_is_401_whatever_its_body(
    admin_gateway: Running, body: bytes, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=admin_gateway.base_url, timeout=10) as http:
        for path in ("/admin/inbox/import", "/admin/inbox/replay"):
            response = await http.post(
                path, content=body, headers={**headers, "content-type": "application/json"}
            )
            assert response.status_code == 401, (path, response.text)
            # A bearer token that is not ours is told apart from no token at all.
            wrong = headers.get("authorization", "").startswith("Bearer ")
            reason = "ADMIN_TOKEN_WRONG" if wrong else "ADMIN_TOKEN_REQUIRED"
            assert response.json()["error"]["reason"] == reason
            assert TOKEN not in response.text


async def test_get_on_the_import_path_is_not_read_as_an_entry_id(admin_gateway: Running) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=admin_gateway.base_url, headers=auth) as http:
        response = await http.get("/admin/inbox/import")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
