"""How stock reaches a channel: the pusher interface and a reference HTTP-JSON pusher."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True)
class StockUpdate:
    sku: str
    quantity: int


class PushError(Exception):
    """The channel did not accept a push; it will be retried."""


class StockPusher(Protocol):
    """Sends shown stock to one channel. ``full`` means: this is every SKU we list there."""

    async def push(self, channel: str, updates: Sequence[StockUpdate], *, full: bool) -> None: ...


class HttpJsonPusher:
    """POSTs ``{"channel", "full", "items": [{"sku", "quantity"}]}`` to the channel's URL.

    Any non-2xx answer or transport error raises :class:`PushError`.
    """

    def __init__(self, client: httpx.AsyncClient, urls: Mapping[str, str]) -> None:
        self._client = client
        self._urls = dict(urls)

    async def push(self, channel: str, updates: Sequence[StockUpdate], *, full: bool) -> None:
        url = self._urls.get(channel)
        if url is None:
            raise PushError(f"no URL configured for channel {channel!r}")
        body = {
            "channel": channel,
            "full": full,
            "items": [{"sku": u.sku, "quantity": u.quantity} for u in updates],
        }
        try:
            response = await self._client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise PushError(f"{channel}: {exc!r}") from exc
        if not response.is_success:
            raise PushError(f"{channel}: HTTP {response.status_code} {response.text[:200]}")
