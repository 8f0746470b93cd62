"""Youzan: ``Event-Sign`` = hex MD5(client_id + raw body + client_secret)."""

from __future__ import annotations

import hashlib

HEADER_SIGN = "event-sign"
HEADER_CLIENT_ID = "client-id"
HEADER_TYPE = "event-type"


def sign(client_id: str, secret: str, body: bytes) -> str:
    """``Event-Sign`` for ``body``: hex MD5(client_id + body + client_secret)."""
    return hashlib.md5(client_id.encode() + body + secret.encode()).hexdigest()
