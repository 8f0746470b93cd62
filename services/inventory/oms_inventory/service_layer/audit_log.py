"""Use case: page through the stock audit log, newest first."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from oms_inventory.domain.audit import AuditEntry
from oms_inventory.domain.errors import InvalidPageToken, InvalidRequest
from oms_inventory.service_layer.deps import Deps

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_TOKEN_PREFIX = "audit:v1:"


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_page_token: str


class AuditLogService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def list(
        self, *, sku: str, since: datetime | None, page_size: int, page_token: str
    ) -> AuditPage:
        if page_size < 0:
            raise InvalidRequest("page_size must not be negative", metadata={"field": "page_size"})
        limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        before = decode_token(page_token) if page_token else None
        async with self._deps.uow() as uow:
            rows = await uow.audit.page(
                sku=sku.strip(), since=since, before_seq=before, limit=limit + 1
            )
        page, more = rows[:limit], len(rows) > limit
        token = encode_token(page[-1][0]) if more and page else ""
        return AuditPage([entry for _, entry in page], token)


def encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{seq}".encode()).decode()


def decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if not text.startswith(_TOKEN_PREFIX):
            raise ValueError(text)
        return int(text.removeprefix(_TOKEN_PREFIX))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidPageToken(
            "page_token is not one this service issued", metadata={"field": "page_token"}
        ) from None
