"""Persistence of reservations and their items."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.adapters.orm import reservation_items, reservations
from oms_inventory.domain.reservation import (
    BranchKey,
    Reservation,
    ReservationState,
    ReservedItem,
)

_r = reservations.c
_i = reservation_items.c


class ReservationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, reservation: Reservation) -> None:
        key = {"gid": reservation.branch.gid, "branch_id": reservation.branch.branch_id}
        await self._session.execute(
            sa.insert(reservations).values(
                **key,
                order_id=reservation.order_id,
                state=reservation.state.value,
                ship_to_province=reservation.ship_to_province,
                expire_at=reservation.expire_at,
                created_at=reservation.created_at,
                updated_at=reservation.updated_at,
            )
        )
        await self._session.execute(
            sa.insert(reservation_items),
            [
                {
                    **key,
                    "sku": item.sku,
                    "warehouse_code": item.warehouse_code,
                    "position": position,
                    "quantity": item.quantity,
                }
                for position, item in enumerate(reservation.items)
            ],
        )

    async def get(self, branch: BranchKey) -> Reservation | None:
        row = (
            await self._session.execute(
                sa.select(reservations).where(
                    _r.gid == branch.gid, _r.branch_id == branch.branch_id
                )
            )
        ).first()
        if row is None:
            return None
        items = await self._session.execute(
            sa.select(_i.sku, _i.warehouse_code, _i.quantity)
            .where(_i.gid == branch.gid, _i.branch_id == branch.branch_id)
            .order_by(_i.position)
        )
        data = row._mapping
        return Reservation(
            branch=branch,
            order_id=data["order_id"],
            state=ReservationState(data["state"]),
            items=tuple(ReservedItem(i.sku, i.warehouse_code, int(i.quantity)) for i in items),
            expire_at=data["expire_at"],
            created_at=data["created_at"],
            updated_at=data["updated_at"],
            ship_to_province=data["ship_to_province"],
        )

    async def transition(self, reservation: Reservation, expected: ReservationState) -> bool:
        """Store the new state only if the stored one is still ``expected``."""
        result = await self._session.execute(
            sa.update(reservations)
            .where(
                _r.gid == reservation.branch.gid,
                _r.branch_id == reservation.branch.branch_id,
                _r.state == expected.value,
            )
            .values(state=reservation.state.value, updated_at=reservation.updated_at)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def for_gid(self, gid: str) -> list[Reservation]:
        """Every branch's reservation of one global transaction, by branch id."""
        rows = await self._session.execute(
            sa.select(_r.branch_id).where(_r.gid == gid).order_by(_r.branch_id)
        )
        found = []
        for (branch_id,) in rows.all():
            reservation = await self.get(BranchKey(gid, branch_id))
            if reservation is not None:
                found.append(reservation)
        return found

    async def hold_confirmed(self, branch: BranchKey) -> bool:
        """Lock a still-confirmed reservation's row until commit; False when it is not.

        A return's Try holds it so that a concurrent RestockReservation (whose conditional
        UPDATE then waits) sees the return once it goes on, and so that returns of one
        reservation are tried one after the other.
        """
        result = await self._session.execute(
            sa.update(reservations)
            .where(
                _r.gid == branch.gid,
                _r.branch_id == branch.branch_id,
                _r.state == ReservationState.CONFIRMED.value,
            )
            .values(state=ReservationState.CONFIRMED.value)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def due_for_expiry(self, now: datetime, limit: int) -> list[BranchKey]:
        """Live reservations whose deadline passed (for the expiry backstop)."""
        rows = await self._session.execute(
            sa.select(_r.gid, _r.branch_id)
            .where(_r.state == ReservationState.RESERVED.value, _r.expire_at <= now)
            .order_by(_r.expire_at)
            .limit(limit)
        )
        return [BranchKey(row.gid, row.branch_id) for row in rows]
