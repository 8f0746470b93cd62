"""POST alerts to an operator's webhook (OMS_ALERT_WEBHOOK_URL), retrying with backoff.

Shared by the gateway (feed silence) and aftersales (SLA escalations).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from omslib.retry import Backoff, retrying

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
        # Uncapped doubling: the attempts are few, so the waits stay short in all.
        backoff = Backoff(first=self._base_delay, cap=math.inf)
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                async for attempt in retrying(
                    backoff, attempts=self._attempts, retry_on=_Failed, sleep=self._sleep
                ):
                    with attempt:
                        await self._post(client, payload)
            return True
        except _Failed as exc:
            log.error(
                "alert webhook failed; the alert stays recorded as undelivered",
                extra={"code": "ALERT_WEBHOOK_FAILED", "url": self._url, "error": str(exc)},
            )
            return False

    async def _post(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> None:
        try:
            response = await client.post(self._url, json=payload)
        except httpx.HTTPError as exc:
            raise _Failed(repr(exc)) from exc
        if not response.is_success:
            raise _Failed(f"HTTP {response.status_code}")


class _Failed(Exception):
    """One attempt failed; the message says how (kept for the final log line)."""
