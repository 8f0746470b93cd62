"""Use cases of the refund TCC's inventory branch: Try expects goods back, Confirm restocks
what arrived, Cancel releases the expectation.

Each runs in one local transaction with its barrier rows, stock moves, audit entries and
events. The barrier gives what it gives the reservation (a repeat changes nothing, a
Cancel without Try is empty, a Try after its Cancel is refused); the return's own state,
moved by conditional UPDATEs, decides Confirm against Cancel once a Try recorded it, so a
return waiting for its goods longer than barrier rows are kept is still settled once.
"""

from __future__ import annotations

from omslib.tcc import Guard

from oms_inventory.adapters.unit_of_work import InventoryUnitOfWork
from oms_inventory.domain.errors import (
    ExpectedReturnMissing,
    ExpectedReturnNotFound,
    ReservationNotConfirmed,
    ReservationNotFound,
    ReturnConfirmed,
    StockContention,
    TryAfterCancel,
)
from oms_inventory.domain.reservation import BranchKey, Reservation, ReservationState
from oms_inventory.domain.returns import ExpectedReturn, ExpectReturnRequest, ReturnState
from oms_inventory.service_layer import events
from oms_inventory.service_layer.deps import MAX_ATTEMPTS, Deps
from oms_inventory.service_layer.return_settlement import settle

#: Returns one GetExpectedReturn by order answers.
MAX_RETURNS_PER_READ = 100


class ReturnService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def try_expect(self, request: ExpectReturnRequest) -> ExpectedReturn:
        """Record the expected goods; a repeat answers with the first expectation."""
        branch = request.branch
        for _ in range(MAX_ATTEMPTS):
            async with self._deps.uow() as uow:
                now = self._deps.clock.now()
                guard = await uow.barrier.guard_try(branch, now=now)
                if guard is Guard.REFUSED:  # a Cancel came first: no hanging
                    raise TryAfterCancel(
                        f"branch {branch.gid}/{branch.branch_id} was already cancelled",
                        metadata={"gid": branch.gid, "branch_id": branch.branch_id},
                    )
                existing = await uow.returns.get(branch)
                if existing is not None:  # a repeat (also once its barrier rows are purged)
                    return existing
                sources = await _deducted_reservations(uow, request)
                if sources is None:
                    continue  # a reservation changed under us: look again
                earlier = await uow.returns.for_reservation(request.reservation_gid)
                expected = ExpectedReturn.expect(request, _deducted(sources), earlier, now)
                await uow.returns.add(expected)
                await events.expected_return_changed(uow, expected)
                await uow.commit()
                return expected
        raise StockContention("reservations kept changing while expecting a return; retry")

    async def confirm(self, branch: BranchKey) -> ExpectedReturn:
        """Restock what was received, once; a repeat answers the settled return."""
        for _ in range(MAX_ATTEMPTS):
            async with self._deps.uow() as uow:
                now = self._deps.clock.now()
                expected = await uow.returns.get(branch)
                if expected is None:
                    raise ExpectedReturnNotFound(
                        f"no expected return for {branch.gid}/{branch.branch_id}",
                        metadata={"gid": branch.gid, "branch_id": branch.branch_id},
                    )
                confirmed = expected.confirm(now)
                if confirmed is None:
                    return expected
                guard = await uow.barrier.guard_confirm(branch, now=now)
                if guard is Guard.REPEAT:
                    continue  # a concurrent Confirm won: read it again
                # PROCEED, or REFUSED: a Cancel won (the UPDATE below then fails and the
                # reread says so) or the barrier rows were purged (the state decides).
                if not await uow.returns.transition(confirmed, ReturnState.EXPECTED):
                    continue
                # Receipts as committed now: a receipt holds the row, so none can slip in.
                settled = await uow.returns.get(branch)
                if settled is None:  # the row this transaction just updated
                    raise RuntimeError(f"return {branch.gid}/{branch.branch_id} vanished")
                await settle(uow, self._deps, settled)
                await uow.commit()
                return settled
        raise StockContention("return kept changing while confirming; retry")

    async def cancel(self, branch: BranchKey) -> ExpectedReturn | None:
        """Release the expectation; None for an empty compensation (no Try seen)."""
        for _ in range(MAX_ATTEMPTS):
            async with self._deps.uow() as uow:
                now = self._deps.clock.now()
                guard = await uow.barrier.guard_cancel(branch, now=now, reason="cancel")
                if guard is Guard.REFUSED:
                    raise ReturnConfirmed(
                        f"return {branch.gid}/{branch.branch_id} was confirmed; "
                        "its goods are restocked",
                        metadata={"gid": branch.gid, "branch_id": branch.branch_id},
                    )
                expected = await uow.returns.get(branch)
                if guard is Guard.REPEAT or expected is None:
                    await uow.commit()  # EMPTY wrote the rows that refuse a late Try
                    return expected
                cancelled = expected.cancel(now)
                if cancelled is None:
                    await uow.commit()
                    return expected
                if not await uow.returns.transition(cancelled, ReturnState.EXPECTED):
                    continue
                await events.expected_return_changed(uow, cancelled)
                await uow.commit()
                return cancelled
        raise StockContention("return kept changing while cancelling; retry")

    async def get(self, branch: BranchKey) -> ExpectedReturn:
        async with self._deps.uow() as uow:
            expected = await uow.returns.get(branch)
        if expected is None:
            raise ExpectedReturnMissing(
                f"no expected return for {branch.gid}/{branch.branch_id}",
                metadata={"gid": branch.gid, "branch_id": branch.branch_id},
            )
        return expected

    async def for_order(self, order_id: str) -> list[ExpectedReturn]:
        async with self._deps.uow() as uow:
            found = await uow.returns.for_order(order_id, limit=MAX_RETURNS_PER_READ)
        if not found:
            raise ExpectedReturnMissing(
                f"no expected return for order {order_id}", metadata={"order_id": order_id}
            )
        return found


async def _deducted_reservations(
    uow: InventoryUnitOfWork, request: ExpectReturnRequest
) -> list[Reservation] | None:
    """The order's confirmed reservations under the request's gid, each held until commit
    (None when one stopped being confirmed meanwhile)."""
    found = [
        r
        for r in await uow.reservations.for_gid(request.reservation_gid)
        if r.order_id == request.order_id
    ]
    if not found:
        raise ReservationNotFound(
            f"no reservation of order {request.order_id} under {request.reservation_gid}",
            metadata={"order_id": request.order_id, "reservation_gid": request.reservation_gid},
        )
    deducted = [r for r in found if r.state is ReservationState.CONFIRMED]
    if not deducted:
        raise ReservationNotConfirmed(
            f"the stock of order {request.order_id} was never deducted (or was restocked): "
            f"its reservation is {found[0].state.value}",
            metadata={
                "order_id": request.order_id,
                "reservation_gid": request.reservation_gid,
                "state": found[0].state.name,
            },
        )
    for reservation in deducted:
        if not await uow.reservations.hold_confirmed(reservation.branch):
            return None
    return deducted


def _deducted(reservations: list[Reservation]) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Units deducted per SKU, with the warehouses they came from (in reservation order)."""
    units: dict[str, int] = {}
    warehouses: dict[str, list[str]] = {}
    for reservation in reservations:
        for item in reservation.items:
            units[item.sku] = units.get(item.sku, 0) + item.quantity
            codes = warehouses.setdefault(item.sku, [])
            if item.warehouse_code not in codes:
                codes.append(item.warehouse_code)
    return {sku: (units[sku], tuple(warehouses[sku])) for sku in units}
