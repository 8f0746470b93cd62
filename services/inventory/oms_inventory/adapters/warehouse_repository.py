"""Persistence of warehouses, and the process's cache of the active ones (for the Try)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from omslib.db.inserts import insert_if_absent
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.adapters.orm import warehouses
from oms_inventory.domain.warehouse import Warehouse

#: How long another replica's warehouse change may go unseen by this process's Try.
ACTIVE_WAREHOUSES_TTL_SECONDS = 5.0


class WarehouseCache:
    """The active warehouses, read at most once per ``ttl`` seconds by the Try.

    A change committed through this process (``UpsertWarehouse``) drops the entry at
    once; a change made by another replica is seen within ``ttl`` seconds. A read
    that started before a drop is not stored (generation check), so a list older
    than a committed change never outlives that change's commit here.
    """

    def __init__(
        self,
        ttl: float = ACTIVE_WAREHOUSES_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._generation = 0
        self._entry: tuple[float, tuple[Warehouse, ...]] | None = None

    @property
    def generation(self) -> int:
        return self._generation

    def get(self) -> tuple[Warehouse, ...] | None:
        if self._entry is None:
            return None
        stored_at, found = self._entry
        if self._monotonic() - stored_at >= self._ttl:
            self._entry = None
            return None
        return found

    def put(self, generation: int, found: tuple[Warehouse, ...]) -> None:
        """Keep ``found`` unless the cache was invalidated since its read began."""
        if generation == self._generation and self._ttl > 0:
            self._entry = (self._monotonic(), found)

    def invalidate(self) -> None:
        self._generation += 1
        self._entry = None


class WarehouseRepository:
    def __init__(self, session: AsyncSession, cache: WarehouseCache | None = None) -> None:
        self._session = session
        self._cache = cache
        #: Whether this session wrote a warehouse (the unit of work drops the cache on commit).
        self.changed = False

    async def upsert(self, warehouse: Warehouse, now: datetime) -> None:
        values = {
            "display_name": warehouse.display_name,
            "province": warehouse.province,
            "city": warehouse.city,
            "active": warehouse.active,
            "nearby_provinces": list(warehouse.nearby_provinces),
            "updated_at": now,
        }
        self.changed = True
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

    async def active(self) -> tuple[Warehouse, ...]:
        """The active warehouses, from the process's cache when it has them (see WarehouseCache)."""
        cache = self._cache
        if cache is None:
            return tuple(await self.list(include_inactive=False))
        found = cache.get()
        if found is None:
            generation = cache.generation
            found = tuple(await self.list(include_inactive=False))
            cache.put(generation, found)
        return found


def _warehouse(row: Any) -> Warehouse:
    return Warehouse(
        code=row["code"],
        display_name=row["display_name"],
        province=row["province"],
        city=row["city"],
        active=bool(row["active"]),
        nearby_provinces=tuple(row["nearby_provinces"] or ()),
    )
