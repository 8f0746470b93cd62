"""Use case: the truth channel stock sync refreshes from (available units per SKU)."""

from __future__ import annotations

from oms_inventory.service_layer.deps import Deps


class AvailabilitySnapshot:
    """``await snapshot()``: {sku: available} over every warehouse, from inventory's tables."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def __call__(self) -> dict[str, int]:
        async with self._deps.uow() as uow:
            return await uow.stock.available_by_sku()
