"""What the service layer needs from the outside world, as protocols."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from oms_orders.domain.values import StockAllocation


class InventoryParticipant(Protocol):
    """Inventory as a TCC participant.

    ``try_reserve`` raises ``ReservationRefused`` for a business refusal (nothing
    reserved) and ``InventoryUnavailable`` when the outcome is unknown;
    ``cancel_reserve`` is safe before or without a Try and raises
    ``InventoryUnavailable`` when it could not be delivered.
    """

    async def try_reserve(
        self,
        *,
        gid: str,
        branch_id: str,
        order_id: str,
        lines: Sequence[tuple[str, int]],
        ship_to_province: str,
        expire_time: datetime,
    ) -> list[StockAllocation]: ...

    async def cancel_reserve(self, *, gid: str, branch_id: str) -> None: ...


@dataclass(frozen=True)
class ReservePayload:
    """What the inventory branch's Try reserves: the order's lines, where it ships, until when."""

    order_id: str
    lines: Sequence[tuple[str, int]]
    ship_to_province: str
    expire_time: datetime
