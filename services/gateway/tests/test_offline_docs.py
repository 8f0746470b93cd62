"""/docs works without internet, and the OpenAPI document says how the admin API is called."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


async def test_docs_page_loads_every_asset_from_the_gateway(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    parser = _Assets()
    parser.feed(page.text)
    assert parser.urls, "the page references Swagger UI's script and style"
    remote = [url for url in parser.urls if re.match(r"^(https?:)?//", url)]
    assert remote == [], "nothing may come from another host (a CDN is unreachable offline)"
    for url in parser.urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 500, url  # the real file, not an empty placeholder
    assert "/openapi.json" in page.text


async def test_openapi_describes_the_admin_bearer_scheme(
    make_gateway: Any, orders: Any, shop_secret: str
) -> None:
    service, _ = orders
    # The admin API exists only on a gateway with a token (`make run` sets one).
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        shop_secret,
        OMS_GATEWAY_ADMIN_TOKEN="docs-admin-token-0123456789",
    )
    async with httpx.AsyncClient(base_url=running.base_url, timeout=10) as client:
        document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["adminToken"]["description"],
    }
    assert "OMS_GATEWAY_ADMIN_TOKEN" in schemes["adminToken"]["description"]
    admin_operations = [
        operation
        for path, item in document["paths"].items()
        if path.startswith("/admin/")
        for operation in item.values()
    ]
    assert admin_operations
    for operation in admin_operations:
        assert operation["security"] == [{"adminToken": []}]
    push = document["paths"]["/webhooks/{platform}"]["post"]
    assert "security" not in push  # pushes are signed per platform, not bearer-authorised
