"""Persistence of warehouses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.adapters.inserts import insert_if_absent
from oms_inventory.adapters.orm import warehouses
from oms_inventory.domain.warehouse import Warehouse


class WarehouseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, warehouse: Warehouse, now: datetime) -> None:
        values = {
            "display_name": warehouse.display_name,
            "province": warehouse.province,
            "city": warehouse.city,
            "active": warehouse.active,
            "nearby_provinces": list(warehouse.nearby_provinces),
            "updated_at": now,
        }
        inserted = await insert_if_absent(
            self._session, warehouses, {"code": warehouse.code, "created_at": now, **values}
        )
        if not inserted:
            await self._session.execute(
                sa.update(warehouses).where(warehouses.c.code == warehouse.code).values(**values)
            )

    async def get(self, code: str) -> Warehouse | None:
        row = (
            await self._session.execute(sa.select(warehouses).where(warehouses.c.code == code))
        ).first()
        return None if row is None else _warehouse(row._mapping)

    async def list(self, *, include_inactive: bool) -> list[Warehouse]:
        query = sa.select(warehouses).order_by(warehouses.c.code)
        if not include_inactive:
            query = query.where(warehouses.c.active.is_(True))
        rows = await self._session.execute(query)
        return [_warehouse(row._mapping) for row in rows]


def _warehouse(row: Any) -> Warehouse:
    return Warehouse(
        code=row["code"],
        display_name=row["display_name"],
        province=row["province"],
        city=row["city"],
        active=bool(row["active"]),
        nearby_provinces=tuple(row["nearby_provinces"] or ()),
    )
