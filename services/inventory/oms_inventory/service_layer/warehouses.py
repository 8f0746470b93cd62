"""Use cases: create, update and list warehouses."""

from __future__ import annotations

from oms_inventory.domain.warehouse import Warehouse
from oms_inventory.service_layer.deps import Deps


class WarehouseService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def upsert(self, warehouse: Warehouse) -> Warehouse:
        async with self._deps.uow() as uow:
            await uow.warehouses.upsert(warehouse, self._deps.clock.now())
            await uow.commit()
        return warehouse

    async def list(self, *, include_inactive: bool) -> list[Warehouse]:
        async with self._deps.uow() as uow:
            return await uow.warehouses.list(include_inactive=include_inactive)
