"""Douyin shop (Doudian): ``event-sign`` = hex MD5(app_key + raw body + app_secret)."""

from __future__ import annotations

import hashlib

HEADER_APP_ID = "app-id"
HEADER_SIGN = "event-sign"


def sign(app_key: str, secret: str, body: bytes) -> str:
    """``event-sign`` for ``body``: hex MD5(app_key + body + secret)."""
    return hashlib.md5(app_key.encode() + body + secret.encode()).hexdigest()
