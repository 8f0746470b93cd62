"""Opaque page tokens and page sizes (AIP-158) for id-ordered listings."""

from __future__ import annotations

import base64
import binascii
import re

from oms_orders.domain.errors import InvalidPageToken, InvalidRequest

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_PREFIX = "v1:"


def page_size(requested: int) -> int:
    """0 means the default; larger than the maximum is coerced down; negative is refused."""
    if requested < 0:
        raise InvalidRequest(
            f"page_size must not be negative, got {requested}", metadata={"field": "page_size"}
        )
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(last_id: str) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_token(token: str) -> str | None:
    """The last id of the previous page; None for the first page."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    last_id = raw.removeprefix(_PREFIX)
    if not raw.startswith(_PREFIX) or not _ULID.match(last_id):
        raise InvalidPageToken(
            "invalid page_token: pass the next_page_token of the previous page",
            metadata={"field": "page_token"},
        )
    return last_id
