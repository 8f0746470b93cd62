"""Moving reserved stock for a whole reservation, row by row, in a fixed order."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime

from oms_inventory.adapters.unit_of_work import InventoryUnitOfWork
from oms_inventory.domain.audit import StockChange
from oms_inventory.domain.reservation import ReservedItem


class StockMove(enum.Enum):
    RESERVE = "reserve"
    RELEASE = "release"
    DEDUCT = "deduct"
    #: Deducted units back on hand (a confirmed reservation whose order ended unshipped).
    RESTOCK = "restock"


async def apply_moves(
    uow: InventoryUnitOfWork, move: StockMove, items: Sequence[ReservedItem], now: datetime
) -> list[StockChange] | None:
    """Apply ``move`` to every item; None when a row no longer allows it (roll back then).

    Rows are touched in (sku, warehouse) order so that concurrent transactions
    lock them in the same order and cannot deadlock each other.
    """
    operation = {
        StockMove.RESERVE: uow.stock.reserve,
        StockMove.RELEASE: uow.stock.release,
        StockMove.DEDUCT: uow.stock.deduct,
        StockMove.RESTOCK: uow.stock.add_on_hand,
    }[move]
    changes = []
    for item in sorted(items, key=lambda i: (i.sku, i.warehouse_code)):
        change = await operation(item.sku, item.warehouse_code, item.quantity, now)
        if change is None:
            return None
        changes.append(change)
    return changes


async def apply_held_moves(
    uow: InventoryUnitOfWork, move: StockMove, items: Sequence[ReservedItem], now: datetime
) -> list[StockChange]:
    """Like :func:`apply_moves` for moves that cannot be refused: units a live reservation
    holds, or (restock) units going back to the rows a Confirm deducted them from."""
    changes = await apply_moves(uow, move, items, now)
    if changes is None:
        raise RuntimeError(f"{move.value}: reserved units missing from their stock rows")
    return changes
