"""The stock audit log, newest first, paged by its insertion sequence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.adapters.orm import stock_audit
from oms_inventory.domain.audit import AuditAction, AuditEntry
from oms_inventory.domain.stock import AdjustmentReason

_c = stock_audit.c
_INSERT = sa.insert(stock_audit)  # built once (see the stock repository)


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        await self._session.execute(
            _INSERT,
            [
                {
                    "id": e.id,
                    "sku": e.sku,
                    "warehouse_code": e.warehouse_code,
                    "action": e.action.value,
                    "reason": e.reason.value,
                    "note": e.note,
                    "actor": e.actor,
                    "on_hand_before": e.on_hand_before,
                    "on_hand_after": e.on_hand_after,
                    "reserved_before": e.reserved_before,
                    "reserved_after": e.reserved_after,
                    "trace_id": e.trace_id,
                    "at": e.at,
                    "damaged_before": e.damaged_before,
                    "damaged_after": e.damaged_after,
                }
                for e in entries
            ],
        )

    async def page(
        self, *, sku: str, since: datetime | None, before_seq: int | None, limit: int
    ) -> list[tuple[int, AuditEntry]]:
        """Up to ``limit`` entries, newest first, each with its sequence number."""
        query = sa.select(stock_audit).order_by(_c.seq.desc()).limit(limit)
        if sku:
            query = query.where(_c.sku == sku)
        if since is not None:
            query = query.where(_c.at >= since)
        if before_seq is not None:
            query = query.where(_c.seq < before_seq)
        rows = await self._session.execute(query)
        return [(int(row.seq), _entry(row._mapping)) for row in rows]


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        sku=row["sku"],
        warehouse_code=row["warehouse_code"],
        action=AuditAction(row["action"]),
        reason=AdjustmentReason(row["reason"]),
        note=row["note"],
        actor=row["actor"],
        on_hand_before=int(row["on_hand_before"]),
        on_hand_after=int(row["on_hand_after"]),
        reserved_before=int(row["reserved_before"]),
        reserved_after=int(row["reserved_after"]),
        trace_id=row["trace_id"],
        at=row["at"],
        damaged_before=int(row["damaged_before"]),
        damaged_after=int(row["damaged_after"]),
    )
