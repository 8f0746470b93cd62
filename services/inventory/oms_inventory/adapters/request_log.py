"""Request ids of stock changes already applied (AIP-155 idempotency)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from omslib.db.inserts import insert_if_absent
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.adapters.orm import stock_requests


@dataclass(frozen=True)
class StoredRequest:
    kind: str
    sku: str
    warehouse_code: str


class RequestLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, request_id: str, request: StoredRequest, now: datetime) -> bool:
        """True when ``request_id`` is new (and is now taken by this transaction)."""
        return await insert_if_absent(
            self._session,
            stock_requests,
            {
                "request_id": request_id,
                "kind": request.kind,
                "sku": request.sku,
                "warehouse_code": request.warehouse_code,
                "created_at": now,
            },
        )

    async def get(self, request_id: str) -> StoredRequest | None:
        c = stock_requests.c
        row = (
            await self._session.execute(
                sa.select(c.kind, c.sku, c.warehouse_code).where(c.request_id == request_id)
            )
        ).first()
        return None if row is None else StoredRequest(row.kind, row.sku, row.warehouse_code)
