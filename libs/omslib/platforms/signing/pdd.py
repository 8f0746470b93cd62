"""Pinduoduo: the ``{sign}`` of the message WebSocket's connection URL."""

from __future__ import annotations

import base64
import hashlib


def connection_sign(client_id: str, timestamp_ms: int, secret: str) -> str:
    """base64 MD5(client_id + timestamp_ms + secret)."""
    digest = hashlib.md5(f"{client_id}{timestamp_ms}{secret}".encode()).digest()
    return base64.b64encode(digest).decode("ascii")
