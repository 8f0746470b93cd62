"""Request ids of stock changes already applied (AIP-155 idempotency, ``omslib.db.request_log``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omslib.db.request_log import RequestLog as RequestIds
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.adapters.orm import stock_requests

_LOG = RequestIds(stock_requests)


@dataclass(frozen=True)
class StoredRequest:
    kind: str
    sku: str
    warehouse_code: str


class RequestLog:
    """``stock_requests``: per request id, the change it asked for (kind, SKU, warehouse)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, request_id: str, request: StoredRequest, now: datetime) -> bool:
        """True when ``request_id`` is new (and is now taken by this transaction)."""
        return await _LOG.record(
            self._session,
            request_id,
            {
                "kind": request.kind,
                "sku": request.sku,
                "warehouse_code": request.warehouse_code,
                "created_at": now,
            },
        )

    async def get(self, request_id: str) -> StoredRequest | None:
        row = await _LOG.recorded(self._session, request_id)
        return (
            None if row is None else StoredRequest(row["kind"], row["sku"], row["warehouse_code"])
        )
