"""Use cases of the TCC participant: Try reserves, Confirm deducts, Cancel releases.

Each runs in one local transaction with its barrier rows, audit entries and
events, so a crash leaves either all of it or none; a repeated call (the
barrier says so) changes nothing and emits nothing. Stock moves only through
conditional UPDATEs; a lost race rolls the whole attempt back and plans again
from fresh rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from omslib.tcc import Guard

from oms_inventory.adapters.unit_of_work import InventoryUnitOfWork
from oms_inventory.domain.allocation import plan_reservation
from oms_inventory.domain.audit import AuditAction, AuditContext, AuditEntry, StockChange
from oms_inventory.domain.errors import (
    ReservationConfirmed,
    ReservationMissing,
    ReservationNotFound,
    ReservationReleased,
    StockContention,
    TryAfterCancel,
)
from oms_inventory.domain.reservation import (
    BranchKey,
    Reservation,
    ReservationState,
    ReserveRequest,
)
from oms_inventory.domain.stock import StockLevel
from oms_inventory.service_layer import events
from oms_inventory.service_layer.deps import MAX_ATTEMPTS, Deps
from oms_inventory.service_layer.stock_moves import StockMove, apply_held_moves, apply_moves

TRY, CONFIRM, CANCEL = "try", "confirm", "cancel"
DEFAULT_TTL = timedelta(minutes=30)


class ReservationService:
    def __init__(self, deps: Deps, *, default_ttl: timedelta = DEFAULT_TTL) -> None:
        self._deps = deps
        self._default_ttl = default_ttl

    async def try_reserve(self, request: ReserveRequest) -> Reservation:
        """Reserve every line or nothing; a repeat answers with the first reservation."""
        for _ in range(MAX_ATTEMPTS):
            async with self._deps.uow() as uow:
                now = self._deps.clock.now()
                guard = await uow.barrier.guard_try(request.branch, now=now)
                if guard is not Guard.PROCEED:
                    return await self._repeated_try(uow, request.branch, guard)
                expire_at = request.deadline(now, self._default_ttl)
                warehouses = await uow.warehouses.active()
                levels = await uow.stock.for_skus(request.skus)
                plan = plan_reservation(request.lines, warehouses, levels, request.ship_to_province)
                reservation = Reservation.reserve(request, plan, expire_at, now)
                # Everything that does not need the stock rows first: a row stays locked
                # from its conditional UPDATE to the commit (a lost race rolls all back).
                await uow.reservations.add(reservation)
                await events.reservation_changed(uow, reservation)
                changes = await apply_moves(uow, StockMove.RESERVE, plan, now)
                if changes is None:
                    continue
                await self._record(uow, reservation, AuditAction.RESERVE, changes, levels)
                await uow.commit()
                return reservation
        raise StockContention("stock kept changing while reserving; retry the Try")

    async def confirm(self, branch: BranchKey) -> Reservation:
        """Deduct the reserved stock; a repeat is a no-op."""
        for _ in range(MAX_ATTEMPTS):
            async with self._deps.uow() as uow:
                now = self._deps.clock.now()
                reservation = await uow.reservations.get(branch)
                if reservation is None:
                    raise ReservationNotFound(
                        f"no reservation for {branch.gid}/{branch.branch_id}",
                        metadata={"gid": branch.gid, "branch_id": branch.branch_id},
                    )
                confirmed = reservation.confirm(now)
                if confirmed is None:
                    return reservation
                guard = await uow.barrier.guard_confirm(branch, now=now)
                if guard is Guard.REPEAT:
                    continue  # a concurrent confirm won; reload
                if guard is Guard.REFUSED:  # cancelled or expired meanwhile
                    raise ReservationReleased(
                        f"reservation {branch.gid}/{branch.branch_id} was released",
                        metadata={"gid": branch.gid, "branch_id": branch.branch_id},
                    )
                if not await uow.reservations.transition(confirmed, ReservationState.RESERVED):
                    continue
                await events.reservation_changed(uow, confirmed)
                changes = await apply_held_moves(uow, StockMove.DEDUCT, confirmed.items, now)
                await self._record(uow, confirmed, AuditAction.CONFIRM, changes)
                await uow.commit()
                return confirmed
        raise StockContention("reservation kept changing while confirming; retry")

    async def cancel(self, branch: BranchKey) -> Reservation | None:
        """Release the reserved stock; None for an empty compensation (no Try seen)."""
        return await self.release(branch, expired=False)

    async def release(self, branch: BranchKey, *, expired: bool) -> Reservation | None:
        """Cancel, or (``expired``) the backstop's release after the deadline passed."""
        reason = "expire" if expired else CANCEL
        for _ in range(MAX_ATTEMPTS):
            async with self._deps.uow() as uow:
                now = self._deps.clock.now()
                guard = await uow.barrier.guard_cancel(branch, now=now, reason=reason)
                if guard is Guard.REPEAT:
                    return await uow.reservations.get(branch)
                if guard is Guard.EMPTY:  # no Try seen; a late one is now refused
                    await uow.commit()
                    return None
                reservation = await uow.reservations.get(branch)
                if guard is Guard.REFUSED:
                    raise ReservationConfirmed(
                        f"reservation {branch.gid}/{branch.branch_id} was confirmed; "
                        "its stock is deducted and cannot be released",
                        metadata={"gid": branch.gid, "branch_id": branch.branch_id},
                    )
                released = (
                    None if reservation is None else reservation.release(now, expired=expired)
                )
                if reservation is None or released is None:
                    await uow.commit()
                    return reservation
                if not await uow.reservations.transition(released, ReservationState.RESERVED):
                    continue
                await events.reservation_changed(uow, released)
                changes = await apply_held_moves(uow, StockMove.RELEASE, released.items, now)
                action = AuditAction.EXPIRE if expired else AuditAction.CANCEL
                await self._record(uow, released, action, changes)
                await uow.commit()
                return released
        raise StockContention("reservation kept changing while cancelling; retry")

    async def get(self, branch: BranchKey) -> Reservation:
        async with self._deps.uow() as uow:
            reservation = await uow.reservations.get(branch)
        if reservation is None:
            raise ReservationMissing(
                f"no reservation for {branch.gid}/{branch.branch_id}",
                metadata={"gid": branch.gid, "branch_id": branch.branch_id},
            )
        return reservation

    async def _repeated_try(
        self, uow: InventoryUnitOfWork, branch: BranchKey, guard: Guard
    ) -> Reservation:
        reservation = await uow.reservations.get(branch)
        if guard is Guard.REFUSED or reservation is None:
            raise TryAfterCancel(
                f"branch {branch.gid}/{branch.branch_id} was already cancelled",
                metadata={"gid": branch.gid, "branch_id": branch.branch_id},
            )
        return reservation

    async def _record(
        self,
        uow: InventoryUnitOfWork,
        reservation: Reservation,
        action: AuditAction,
        changes: Sequence[StockChange],
        levels: Sequence[StockLevel] | None = None,
    ) -> None:
        """What follows the stock rows' change: its audit entries and availability events.

        The reservation's own event is written before the rows are changed (it does not
        depend on them), so the locked rows wait for as few statements as possible.
        ``levels``: the SKUs' rows as read before the change, if they were (see
        ``events.availability_changed``).
        """
        await self._audit(uow, reservation, action, changes)
        await events.availability_changed(uow, changes, read_before=levels)

    async def _audit(
        self,
        uow: InventoryUnitOfWork,
        reservation: Reservation,
        action: AuditAction,
        changes: Sequence[StockChange],
    ) -> None:
        branch = reservation.branch
        context = AuditContext(
            action=action,
            actor=f"tcc:{branch.gid}/{branch.branch_id}",
            note=f"order {reservation.order_id}" if reservation.order_id else "",
            trace_id=self._deps.trace_id(),
        )
        now = reservation.updated_at
        await uow.audit.add(
            [AuditEntry.record(self._deps.new_id(), change, context, now) for change in changes]
        )
