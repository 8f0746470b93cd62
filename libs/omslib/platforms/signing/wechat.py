"""WeChat official accounts: the ``signature`` query parameter of a callback."""

from __future__ import annotations

import hashlib


def signature(token: str, timestamp: str, nonce: str) -> str:
    """hex SHA-1 of the three strings, sorted, joined."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()
