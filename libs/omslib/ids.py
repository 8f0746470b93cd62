"""Time-sortable unique ids (ULID format), used for orders, transactions and events.

Sortable ids keep "newest first" listings and B-tree inserts cheap without a
separate sequence, and need no coordination between replicas.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def new_id(now_ms: int | None = None) -> str:
    """Return a 26-character ULID: 48 bits of milliseconds, then 80 random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
