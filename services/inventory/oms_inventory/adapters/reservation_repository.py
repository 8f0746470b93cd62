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


_branch = sa.and_(_r.gid == sa.bindparam("w_gid"), _r.branch_id == sa.bindparam("w_branch_id"))
# Built once, with bound parameters (building and hashing a statement per call costs
# about as much CPU as executing it).
_INSERT = sa.insert(reservations)
_INSERT_ITEMS = sa.insert(reservation_items)
# A reservation and its items in one statement: one row per item, in position order.
_SELECT = (
    sa.select(reservations, _i.sku, _i.warehouse_code, _i.quantity)
    .select_from(
        reservations.outerjoin(
            reservation_items, sa.and_(_i.gid == _r.gid, _i.branch_id == _r.branch_id)
        )
    )
    .where(_branch)
    .order_by(_i.position)
)
_TRANSITION = (
    sa.update(reservations)
    .where(_branch, _r.state == sa.bindparam("w_state"))
    .values(state=sa.bindparam("v_state"), updated_at=sa.bindparam("v_updated_at"))
)


class ReservationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, reservation: Reservation) -> None:
        key = {"gid": reservation.branch.gid, "branch_id": reservation.branch.branch_id}
        await self._session.execute(
            _INSERT,
            {
                **key,
                "order_id": reservation.order_id,
                "state": reservation.state.value,
                "ship_to_province": reservation.ship_to_province,
                "expire_at": reservation.expire_at,
                "created_at": reservation.created_at,
                "updated_at": reservation.updated_at,
            },
        )
        await self._session.execute(
            _INSERT_ITEMS,
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
        params = {"w_gid": branch.gid, "w_branch_id": branch.branch_id}
        rows = (await self._session.execute(_SELECT, params)).all()
        if not rows:
            return None
        data = rows[0]._mapping
        return Reservation(
            branch=branch,
            order_id=data["order_id"],
            state=ReservationState(data["state"]),
            items=tuple(
                ReservedItem(i.sku, i.warehouse_code, int(i.quantity))
                for i in rows
                if i.sku is not None
            ),
            expire_at=data["expire_at"],
            created_at=data["created_at"],
            updated_at=data["updated_at"],
            ship_to_province=data["ship_to_province"],
        )

    async def transition(self, reservation: Reservation, expected: ReservationState) -> bool:
        """Store the new state only if the stored one is still ``expected``."""
        params = {
            "w_gid": reservation.branch.gid,
            "w_branch_id": reservation.branch.branch_id,
            "w_state": expected.value,
            "v_state": reservation.state.value,
            "v_updated_at": reservation.updated_at,
        }
        result = await self._session.execute(_TRANSITION, params)
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
