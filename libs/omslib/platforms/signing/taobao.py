"""Taobao (Qimen): MD5 or HMAC-SHA256 over the sorted parameters followed by the raw body."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from omslib.platforms.signing.parameters import sorted_name_values


def signing_string(params: Mapping[str, str], body: bytes) -> bytes:
    """S: the non-empty parameters but ``sign``, sorted by name, as name+value, then the body."""
    return sorted_name_values(params).encode() + body


def sign(secret: str, params: Mapping[str, str], body: bytes) -> str:
    text = signing_string(params, body)
    if params.get("sign_method", "md5").lower() == "hmac-sha256":
        return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest().upper()
    return hashlib.md5(secret.encode() + text + secret.encode()).hexdigest().upper()
