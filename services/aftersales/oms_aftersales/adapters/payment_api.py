"""The reference payment-API adapter (own shop, Shopify): ``POST {url}/refunds``.

Request: JSON ``{"payment_reference", "amount_minor_units", "currency"}`` with the
headers ``Idempotency-Key`` (fixed per refund) and ``Authorization: Bearer <key>``.
2xx with ``{"refund_id": ...}`` is paid; 4xx other than 408/409/429 is a refusal
(``{"code": ...}`` gives the reason); anything else (timeout, 5xx, 408, 409 "in
flight", 429, connection lost, unreadable body) is an unknown outcome, retried with
the same key. The API key is never logged nor put in an error.
"""

from __future__ import annotations

import httpx

from oms_aftersales.domain.payouts import PayoutRefused, PayoutRequest, PayoutUnknown

RETRYABLE_4XX = frozenset({408, 409, 425, 429})


class HttpPaymentApi:
    def __init__(self, base_url: str, api_key: str, *, timeout: float) -> None:
        self._url = base_url.rstrip("/") + "/refunds"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(timeout=timeout)

    async def refund(self, request: PayoutRequest) -> str:
        body = {
            "payment_reference": request.payment_reference,
            "amount_minor_units": request.amount,
            "currency": request.currency,
        }
        headers = {**self._headers, "Idempotency-Key": request.key}
        try:
            reply = await self._client.post(self._url, json=body, headers=headers)
        except httpx.HTTPError as err:  # timeout, refused connection, reset: unknown
            raise PayoutUnknown(f"payment API unreachable: {type(err).__name__}") from None
        if 200 <= reply.status_code < 300:
            try:
                refund_id = str(reply.json()["refund_id"])
            except (ValueError, KeyError, TypeError):
                raise PayoutUnknown("payment API answered 2xx without a refund_id") from None
            return refund_id[:128]
        if 400 <= reply.status_code < 500 and reply.status_code not in RETRYABLE_4XX:
            raise PayoutRefused(_code(reply) or f"HTTP_{reply.status_code}")
        raise PayoutUnknown(f"payment API answered HTTP {reply.status_code}")

    async def aclose(self) -> None:
        await self._client.aclose()


def _code(reply: httpx.Response) -> str:
    try:
        code = reply.json().get("code", "")
    except (ValueError, AttributeError):
        return ""
    return str(code)[:64] if isinstance(code, str) else ""


class NoPaymentApi:
    """Used when OMS_AFTERSALES_PAYMENT_API_URL is unset: every payout waits (and alerts)."""

    async def refund(self, request: PayoutRequest) -> str:
        raise PayoutUnknown("no payment API configured (OMS_AFTERSALES_PAYMENT_API_URL)")

    async def aclose(self) -> None:
        return None
