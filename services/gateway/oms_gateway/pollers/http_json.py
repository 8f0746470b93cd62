"""Reference poller for a channel with a plain HTTP-JSON order API.

``GET {url}/orders?modified_since=<cursor>&limit=<page_size>`` (no ``modified_since`` on
the first poll), with ``Authorization: Bearer <token>`` when a token is configured,
answers ``{"orders": [<order>...], "next_cursor": "...", "has_more": false}``. An order
has the shape of our shop's order (``ShopOrder`` in /openapi.json: id, status,
created_at, updated_at, currency, total, buyer, shipping_address, lines). Without
``next_cursor`` the cursor becomes the newest ``updated_at`` of the page.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from oms_gateway.config_operations import PollChannelConfig
from oms_gateway.domain.errors import InvalidPayload, MalformedJson
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation
from oms_gateway.platforms.shop import to_snapshot
from oms_gateway.platforms.shop_schema import ShopOrder, ShopWebhook
from oms_gateway.pollers.base import PolledOrder, PollPage


class ChannelError(Exception):
    """The channel answered something we cannot use (HTTP error, not the documented JSON)."""


class HttpJsonPoller:
    body_model: type[BaseModel] = ShopOrder

    def __init__(self, config: PollChannelConfig, *, client: httpx.AsyncClient | None = None):
        self.name = config.name
        self.platform = config.platform
        self.interval_seconds = config.interval_seconds
        self._config = config
        headers = {"accept": "application/json"}
        if config.token is not None:
            headers["authorization"] = f"Bearer {config.token.get_secret_value()}"
        self._client = client or httpx.AsyncClient(timeout=10.0, headers=headers)

    async def fetch(self, cursor: str | None) -> PollPage:
        params: dict[str, Any] = {"limit": self._config.page_size}
        if cursor:
            params["modified_since"] = cursor
        url = self._config.url.rstrip("/") + "/orders"
        try:
            response = await self._client.get(url, params=params)
            response.raise_for_status()
            data = response.json()
            raw_orders = data["orders"]
            orders = [self._polled(order) for order in raw_orders]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise ChannelError(f"{self.name}: {exc!r}") from exc
        next_cursor = data.get("next_cursor") or (
            max(order.modified_at for order in orders).isoformat() if orders else cursor
        )
        return PollPage(orders, next_cursor, bool(data.get("has_more")))

    def _polled(self, order: dict[str, Any]) -> PolledOrder:
        modified = datetime.fromisoformat(str(order["updated_at"]).replace("Z", "+00:00"))
        if modified.tzinfo is None:
            raise ValueError(f"order {order.get('id')}: updated_at needs an offset")
        raw = json.dumps(order, sort_keys=True, separators=(",", ":")).encode()
        return PolledOrder(str(order["id"]), modified.astimezone(UTC), raw)

    def translate(self, push: RawPush) -> Translation:
        try:
            order = ShopOrder.model_validate_json(push.body)
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == "json_invalid":
                raise MalformedJson(f"stored order is not JSON: {first['msg']}") from None
            field = ".".join(str(part) for part in first["loc"]) or "body"
            raise InvalidPayload(f"{field}: {first['msg']}", metadata={"field": field}) from None
        snapshot = to_snapshot(ShopWebhook.model_construct(type="order.paid", order=order))
        modified = order.updated_at.astimezone(UTC).isoformat()
        return Translation(
            platform=self.name,
            event_id=f"{order.id}@{modified}",
            snapshots=(replace(snapshot, platform=self.platform),),
        )

    async def close(self) -> None:
        await self._client.aclose()
