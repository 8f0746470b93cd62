"""POST alerts to an operator's webhook (OMS_ALERT_WEBHOOK_URL), retrying with backoff.

Shared by the gateway (feed silence) and aftersales (SLA escalations).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

log = logging.getLogger(__name__)


class AlertWebhook:
    def __init__(
        self,
        url: str,
        *,
        attempts: int = 5,
        base_delay_seconds: float = 1.0,
        timeout_seconds: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._url = url
        self._attempts = attempts
        self._base_delay = base_delay_seconds
        self._timeout = timeout_seconds
        self._sleep = sleep

    async def send(self, payload: dict[str, Any]) -> bool:
        """True once the webhook answered 2xx; after ``attempts`` failures logs and gives up
        (the caller keeps the alert recorded as undelivered)."""
        last = ""
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            for attempt in range(1, self._attempts + 1):
                try:
                    response = await client.post(self._url, json=payload)
                    if response.is_success:
                        return True
                    last = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                if attempt < self._attempts:
                    await self._sleep(self._base_delay * 2 ** (attempt - 1))
        log.error(
            "alert webhook failed; the alert stays recorded as undelivered",
            extra={"code": "ALERT_WEBHOOK_FAILED", "url": self._url, "error": last},
        )
        return False
