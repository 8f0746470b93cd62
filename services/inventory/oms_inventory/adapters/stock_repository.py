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
from omslib.db.inserts import insert_if_absent
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.adapters.orm import stock_levels
from oms_inventory.domain.audit import StockChange
from oms_inventory.domain.stock import StockLevel

_c = stock_levels.c


def _change_statement(condition: sa.ColumnElement[bool]) -> sa.Update:
    """A conditional change of one row by bound deltas, returning the row after it."""
    return (
        sa.update(stock_levels)
        .where(_c.sku == sa.bindparam("w_sku"), _c.warehouse_code == sa.bindparam("w_warehouse"))
        .where(condition)
        .values(
            on_hand=_c.on_hand + sa.bindparam("on_hand_delta", type_=sa.Integer),
            reserved=_c.reserved + sa.bindparam("reserved_delta", type_=sa.Integer),
            damaged=_c.damaged + sa.bindparam("damaged_delta", type_=sa.Integer),
            updated_at=sa.bindparam("now"),
        )
        .returning(_c.on_hand, _c.reserved, _c.damaged, _c.updated_at)
    )


# Built once, with bound parameters: building and hashing a statement per call costs
# about as much CPU as executing it. ``q`` is the quantity the condition checks.
_q = sa.bindparam("q", type_=sa.Integer)
_CHANGES = {
    "set_on_hand": _change_statement(
        sa.and_(_c.on_hand == sa.bindparam("expected", type_=sa.Integer), _c.reserved <= _q)
    ),
    "add_on_hand": _change_statement(_c.on_hand + _q >= _c.reserved),
    "reserve": _change_statement(_c.on_hand - _c.reserved >= _q),
    "release": _change_statement(_c.reserved >= _q),
    "deduct": _change_statement(sa.and_(_c.reserved >= _q, _c.on_hand >= _q)),
    "add_damaged": _change_statement(_c.damaged + _q >= 0),
}
_FOR_SKUS = (
    sa.select(stock_levels)
    .where(_c.sku.in_(sa.bindparam("skus", expanding=True)))
    .order_by(_c.sku, _c.warehouse_code)
)


class StockRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, sku: str, warehouse_code: str) -> StockLevel | None:
        row = (
            await self._session.execute(sa.select(stock_levels).where(_key(sku, warehouse_code)))
        ).first()
        return None if row is None else _level(row._mapping)

    async def for_skus(self, skus: Sequence[str]) -> list[StockLevel]:
        rows = await self._session.execute(_FOR_SKUS, {"skus": list(skus)})
        return [_level(row._mapping) for row in rows]

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
        return await self._change(
            "set_on_hand", sku, warehouse_code, new - expected, 0, now, q=new, expected=expected
        )

    async def add_on_hand(
        self, sku: str, warehouse_code: str, delta: int, now: datetime
    ) -> StockChange | None:
        return await self._change("add_on_hand", sku, warehouse_code, delta, 0, now, q=delta)

    async def reserve(
        self, sku: str, warehouse_code: str, quantity: int, now: datetime
    ) -> StockChange | None:
        return await self._change("reserve", sku, warehouse_code, 0, quantity, now, q=quantity)

    async def release(
        self, sku: str, warehouse_code: str, quantity: int, now: datetime
    ) -> StockChange | None:
        return await self._change("release", sku, warehouse_code, 0, -quantity, now, q=quantity)

    async def deduct(
        self, sku: str, warehouse_code: str, quantity: int, now: datetime
    ) -> StockChange | None:
        return await self._change(
            "deduct", sku, warehouse_code, -quantity, -quantity, now, q=quantity
        )

    async def add_damaged(
        self, sku: str, warehouse_code: str, quantity: int, now: datetime
    ) -> StockChange | None:
        """Returned units not fit to sell, put apart (on hand and reserved unchanged)."""
        return await self._change(
            "add_damaged", sku, warehouse_code, 0, 0, now, damaged_delta=quantity, q=quantity
        )

    async def _change(
        self,
        kind: str,
        sku: str,
        warehouse_code: str,
        on_hand_delta: int,
        reserved_delta: int,
        now: datetime,
        *,
        damaged_delta: int = 0,
        **condition: int,
    ) -> StockChange | None:
        params = {
            "w_sku": sku,
            "w_warehouse": warehouse_code,
            "on_hand_delta": on_hand_delta,
            "reserved_delta": reserved_delta,
            "damaged_delta": damaged_delta,
            "now": now,
            **condition,
        }
        row = (await self._session.execute(_CHANGES[kind], params)).first()
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
