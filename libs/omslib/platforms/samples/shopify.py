"""Correctly signed sample Shopify webhooks (CLI, tests, benchmarks)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from omslib.platforms.signing.shopify import HEADER_HMAC, HEADER_TOPIC, HEADER_WEBHOOK_ID, sign


def signed_headers(
    secret: str, body: bytes, *, webhook_id: str, topic: str = "orders/create"
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        HEADER_HMAC: sign(secret, body),
        HEADER_TOPIC: topic,
        HEADER_WEBHOOK_ID: webhook_id,
        "x-shopify-shop-domain": "example.myshopify.com",
        "x-shopify-api-version": "2024-10",
    }


_FINANCIAL_FOR_STATUS = {
    "pending": ("pending", None, False),
    "paid": ("paid", None, False),
    "cancelled": ("voided", None, True),
    "shipped": ("paid", "fulfilled", False),
}
#: The statuses a sample can have (``status=``).
STATUSES = tuple(_FINANCIAL_FOR_STATUS)


def sample_order(
    order_id: int,
    skus_and_quantities: Iterable[tuple[str, int]],
    *,
    status: str = "paid",
    unit_price: str = "12.99",
    currency: str = "CNY",
    province: str = "Zhejiang",
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """A valid Shopify ``orders/*`` body; ``status``: pending, paid, cancelled, shipped."""
    financial, fulfillment, cancelled = _FINANCIAL_FOR_STATUS[status]
    now = (updated_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    stamp = now.isoformat()
    pairs = list(skus_and_quantities)
    total = sum(Decimal(unit_price) * quantity for _, quantity in pairs)
    return {
        "id": order_id,
        "name": f"#{order_id % 100000}",
        "created_at": stamp,
        "updated_at": stamp,
        "processed_at": stamp,
        "cancelled_at": stamp if cancelled else None,
        "closed_at": None,
        "currency": currency,
        "total_price": f"{total:.2f}",
        "subtotal_price": f"{total:.2f}",
        "financial_status": financial,
        "fulfillment_status": fulfillment,
        "customer": {"id": 7001, "first_name": "Lei", "last_name": "Li"},
        "shipping_address": {
            "province": province,
            "city": "Hangzhou",
            "address1": "1 Wensan Rd",
            "zip": "310000",
            "name": "Li Lei",
            "phone": "+86 138 0000 0000",
            "country_code": "CN",
        },
        "line_items": [
            {"sku": sku, "quantity": quantity, "price": unit_price, "title": sku}
            for sku, quantity in pairs
        ],
    }


def sample_push(
    secret: str, order_id: int, skus: Iterable[tuple[str, int]], *, webhook_id: str, **kwargs: Any
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(sample_order(order_id, skus, **kwargs)).encode()
    topic = {"cancelled": "orders/cancelled", "paid": "orders/paid"}.get(
        kwargs.get("status", "paid"), "orders/updated"
    )
    return body, signed_headers(secret, body, webhook_id=webhook_id, topic=topic)
