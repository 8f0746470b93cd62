"""Stock rows, changed only by conditional UPDATEs that re-check the rule in the database.

Each change returns the row after it (``RETURNING``), from which the row before
follows exactly, so audit entries are right even under concurrency. A change
whose condition no longer holds returns None and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.adapters.inserts import insert_if_absent
from oms_inventory.adapters.orm import stock_levels
from oms_inventory.domain.audit import StockChange
from oms_inventory.domain.stock import StockLevel

_c = stock_levels.c


class StockRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, sku: str, warehouse_code: str) -> StockLevel | None:
        row = (
            await self._session.execute(sa.select(stock_levels).where(_key(sku, warehouse_code)))
        ).first()
        return None if row is None else _level(row._mapping)

    async def for_skus(self, skus: Sequence[str]) -> list[StockLevel]:
        query = (
            sa.select(stock_levels)
            .where(_c.sku.in_(list(skus)))
            .order_by(_c.sku, _c.warehouse_code)
        )
        return [_level(row._mapping) for row in await self._session.execute(query)]

    async def available_by_sku(self) -> dict[str, int]:
        """Every stocked SKU's available units over all warehouses (as ``Availability``)."""
        free = sa.case((_c.on_hand > _c.reserved, _c.on_hand - _c.reserved), else_=0)
        query = sa.select(_c.sku, sa.func.sum(free)).group_by(_c.sku).order_by(_c.sku)
        return {sku: int(total) for sku, total in await self._session.execute(query)}

    async def sku_known(self, sku: str) -> bool:
        query = sa.select(sa.literal(1)).where(_c.sku == sku).limit(1)
        return (await self._session.execute(query)).first() is not None

    async def ensure(self, sku: str, warehouse_code: str, now: datetime) -> None:
        """Create an empty row for the pair unless it exists."""
        values = {"sku": sku, "warehouse_code": warehouse_code, "on_hand": 0, "reserved": 0}
        await insert_if_absent(self._session, stock_levels, {**values, "updated_at": now})

    async def set_on_hand(
        self, sku: str, warehouse_code: str, *, expected: int, new: int, now: datetime
    ) -> StockChange | None:
        """Compare-and-set: only when on hand is still ``expected`` and ``new`` covers reserved."""
        condition = sa.and_(_c.on_hand == expected, _c.reserved <= new)
        return await self._change(sku, warehouse_code, new - expected, 0, condition, now)

    async def add_on_hand(
        self, sku: str, warehouse_code: str, delta: int, now: datetime
    ) -> StockChange | None:
        condition = _c.on_hand + delta >= _c.reserved
        return await self._change(sku, warehouse_code, delta, 0, condition, now)

    async def reserve(
        self, sku: str, warehouse_code: str, quantity: int, now: datetime
    ) -> StockChange | None:
        condition = _c.on_hand - _c.reserved >= quantity
        return await self._change(sku, warehouse_code, 0, quantity, condition, now)

    async def release(
        self, sku: str, warehouse_code: str, quantity: int, now: datetime
    ) -> StockChange | None:
        condition = _c.reserved >= quantity
        return await self._change(sku, warehouse_code, 0, -quantity, condition, now)

    async def deduct(
        self, sku: str, warehouse_code: str, quantity: int, now: datetime
    ) -> StockChange | None:
        condition = sa.and_(_c.reserved >= quantity, _c.on_hand >= quantity)
        return await self._change(sku, warehouse_code, -quantity, -quantity, condition, now)

    async def add_damaged(
        self, sku: str, warehouse_code: str, quantity: int, now: datetime
    ) -> StockChange | None:
        """Returned units not fit to sell, put apart (on hand and reserved unchanged)."""
        condition = _c.damaged + quantity >= 0
        return await self._change(sku, warehouse_code, 0, 0, condition, now, damaged_delta=quantity)

    async def _change(
        self,
        sku: str,
        warehouse_code: str,
        on_hand_delta: int,
        reserved_delta: int,
        condition: sa.ColumnElement[bool],
        now: datetime,
        *,
        damaged_delta: int = 0,
    ) -> StockChange | None:
        values: dict[str, Any] = {
            "on_hand": _c.on_hand + on_hand_delta,
            "reserved": _c.reserved + reserved_delta,
            "updated_at": now,
        }
        if damaged_delta:
            values["damaged"] = _c.damaged + damaged_delta
        stmt = (
            sa.update(stock_levels)
            .where(_key(sku, warehouse_code), condition)
            .values(**values)
            .returning(_c.on_hand, _c.reserved, _c.damaged, _c.updated_at)
        )
        row = (await self._session.execute(stmt)).first()
        if row is None:
            return None
        on_hand, reserved, damaged = int(row.on_hand), int(row.reserved), int(row.damaged)
        return StockChange(
            sku=sku,
            warehouse_code=warehouse_code,
            on_hand_before=on_hand - on_hand_delta,
            on_hand_after=on_hand,
            reserved_before=reserved - reserved_delta,
            reserved_after=reserved,
            updated_at=row.updated_at,
            damaged_before=damaged - damaged_delta,
            damaged_after=damaged,
        )


def _key(sku: str, warehouse_code: str) -> sa.ColumnElement[bool]:
    return sa.and_(_c.sku == sku, _c.warehouse_code == warehouse_code)


def _level(row: Any) -> StockLevel:
    return StockLevel(
        sku=row["sku"],
        warehouse_code=row["warehouse_code"],
        on_hand=int(row["on_hand"]),
        reserved=int(row["reserved"]),
        updated_at=row["updated_at"],
        damaged=int(row["damaged"]),
    )
