"""Shop pushes built and signed the way our web shop does (CLI, tests, benchmarks)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from omslib.platforms.signing.standard_webhooks import (
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    SECRET_PREFIX,
    compute_signature,
    decode_secret,
)


def new_secret() -> str:
    """A fresh random ``whsec_`` secret."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(24)).decode("ascii")


def sign_standard_webhook(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers (plus Content-Type) for ``body``."""
    signature = compute_signature(decode_secret(secret), msg_id, timestamp, body)
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: signature,
        "content-type": "application/json",
    }


_EVENT_FOR_STATUS = {
    "pending": "order.created",
    "paid": "order.paid",
    "cancelled": "order.cancelled",
}
#: The statuses a sample can have (``status=``).
STATUSES = tuple(_EVENT_FOR_STATUS)


def sample_shop_order(
    order_id: str,
    skus_and_quantities: Iterable[tuple[str, int]],
    *,
    status: str = "pending",
    event_type: str | None = None,
    unit_price: int = 1299,
    currency: str = "CNY",
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
    buyer_id: str = "buyer-1",
    buyer_name: str = "Test Buyer",
    province: str = "Zhejiang",
    city: str = "Hangzhou",
    recipient_name: str | None = None,
    phone: str | None = None,
) -> dict[str, Any]:
    """A valid ``/webhooks/shop`` body; serialise with ``json.dumps(...).encode()``."""
    created = (created_at or datetime.now(UTC)).astimezone(UTC)
    updated = (updated_at or created).astimezone(UTC)
    pairs = list(skus_and_quantities)
    lines = [
        {"sku": sku, "quantity": quantity, "unit_price": unit_price} for sku, quantity in pairs
    ]
    address = {"province": province, "city": city, "line1": "1 Wensan Rd"}
    # Left out unless given: tests rely on an address that sends the order to review.
    if recipient_name is not None:
        address["recipient_name"] = recipient_name
    if phone is not None:
        address["phone"] = phone
    return {
        "type": event_type or _EVENT_FOR_STATUS.get(status, "order.paid"),
        "order": {
            "id": order_id,
            "status": status,
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "updated_at": updated.isoformat().replace("+00:00", "Z"),
            "currency": currency,
            "total": sum(quantity * unit_price for _, quantity in pairs),
            "buyer": {"id": buyer_id, "name": buyer_name},
            "shipping_address": address,
            "lines": lines,
        },
    }
