"""Use case: put a confirmed reservation's units back on hand (the order ended unshipped).

A paid order cancelled or rejected before shipment never lost its goods: the units a
Confirm deducted go back to the warehouses they came from, in one local transaction
with the reservation's new state, the audit entries and the events. Exactly once per
branch: the reservation moves CONFIRMED -> RESTOCKED by a conditional UPDATE, so of
concurrent calls one restocks and the others, retrying, find it RESTOCKED and answer
with it. (Not a barrier row: those are purged after a while, the state is not.)
A reservation a return draws on (expected or received back) is refused: its units left.
"""

from __future__ import annotations

from collections.abc import Sequence

from oms_inventory.adapters.unit_of_work import InventoryUnitOfWork
from oms_inventory.domain.audit import AuditAction, AuditContext, AuditEntry, StockChange
from oms_inventory.domain.errors import ReservationMissing, ReservationReturned, StockContention
from oms_inventory.domain.reservation import (
    BranchKey,
    Reservation,
    ReservationState,
    validate_restock_reason,
)
from oms_inventory.service_layer import events
from oms_inventory.service_layer.deps import MAX_ATTEMPTS, Deps
from oms_inventory.service_layer.stock_moves import StockMove, apply_held_moves


def restock_request_id(branch: BranchKey) -> str:
    """The id that ties a restock's audit entries together."""
    return f"restock:{branch.gid}:{branch.branch_id}"


class RestockService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def restock(self, branch: BranchKey, reason: str) -> Reservation:
        """The reservation RESTOCKED; a repeat answers it as it stands and moves nothing."""
        reason = validate_restock_reason(reason)
        for _ in range(MAX_ATTEMPTS):
            async with self._deps.uow() as uow:
                reservation = await uow.reservations.get(branch)
                if reservation is None:
                    raise ReservationMissing(
                        f"no reservation for {branch.gid}/{branch.branch_id}",
                        metadata={"gid": branch.gid, "branch_id": branch.branch_id},
                    )
                now = self._deps.clock.now()
                restocked = reservation.restock(now)
                if restocked is None:
                    return reservation
                if not await uow.reservations.transition(restocked, ReservationState.CONFIRMED):
                    continue  # a concurrent restock won: read it again
                # Read after the row is ours: a return's Try holds it while it records.
                if await uow.returns.any_claim_on(branch.gid):
                    raise ReservationReturned(
                        f"units of reservation {branch.gid}/{branch.branch_id} are expected "
                        "back or came back as a return; they cannot be restocked again",
                        metadata={"gid": branch.gid, "branch_id": branch.branch_id},
                    )
                await events.reservation_changed(uow, restocked)
                changes = await apply_held_moves(uow, StockMove.RESTOCK, restocked.items, now)
                await self._audit(uow, restocked, reason, changes)
                await events.availability_changed(uow, changes)
                await uow.commit()
                return restocked
        raise StockContention("reservation kept changing while restocking; retry")

    async def _audit(
        self,
        uow: InventoryUnitOfWork,
        reservation: Reservation,
        reason: str,
        changes: Sequence[StockChange],
    ) -> None:
        branch = reservation.branch
        order = f"order {reservation.order_id}: " if reservation.order_id else ""
        context = AuditContext(
            action=AuditAction.RESTOCK,
            actor=f"tcc:{branch.gid}/{branch.branch_id}",
            note=f"{order}{reason} (request {restock_request_id(branch)})",
            trace_id=self._deps.trace_id(),
        )
        at = reservation.updated_at
        await uow.audit.add(
            [AuditEntry.record(self._deps.new_id(), change, context, at) for change in changes]
        )
