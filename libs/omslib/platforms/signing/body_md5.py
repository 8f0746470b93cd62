"""Douyin's and Youzan's signature: hex MD5(app key + raw body + secret)."""

from __future__ import annotations

import hashlib


def sign(app_key: str, secret: str, body: bytes) -> str:
    """hex MD5(app_key + body + secret); Douyin's app key, Youzan's client id."""
    return hashlib.md5(app_key.encode() + body + secret.encode()).hexdigest()
