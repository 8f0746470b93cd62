"""Shopify: ``X-Shopify-Hmac-SHA256`` = base64 HMAC-SHA256(secret, raw body)."""

from __future__ import annotations

import base64
import hashlib
import hmac

HEADER_HMAC = "x-shopify-hmac-sha256"
HEADER_TOPIC = "x-shopify-topic"
HEADER_WEBHOOK_ID = "x-shopify-webhook-id"


def sign(secret: str, body: bytes) -> str:
    """``X-Shopify-Hmac-SHA256`` for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
