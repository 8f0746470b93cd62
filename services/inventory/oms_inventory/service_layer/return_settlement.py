"""A confirmed return's stock moves: resellable units back on hand, damaged units apart,
missing units noted, each in the stock audit log, with the events of the change.

Runs inside the Confirm's transaction, after the return's row moved to CONFIRMED (the
conditional UPDATE that makes it happen once).
"""

from __future__ import annotations

from oms_inventory.adapters.unit_of_work import InventoryUnitOfWork
from oms_inventory.domain.audit import AuditAction, AuditContext, AuditEntry, StockChange
from oms_inventory.domain.returns import Condition, ExpectedReturn
from oms_inventory.domain.stock import AdjustmentReason
from oms_inventory.service_layer import events
from oms_inventory.service_layer.deps import Deps


def return_request_id(expected: ExpectedReturn) -> str:
    """The id that ties a return's audit entries together."""
    return f"return:{expected.branch.gid}:{expected.branch.branch_id}"


async def settle(uow: InventoryUnitOfWork, deps: Deps, expected: ExpectedReturn) -> None:
    now = expected.updated_at
    settlement = expected.settlement()
    entries: list[AuditEntry] = []
    changes: list[StockChange] = []
    for move in settlement.moves:  # (sku, warehouse) order: rows locked in one order
        await uow.stock.ensure(move.sku, move.warehouse_code, now)
        if move.condition is Condition.RESELLABLE:
            change = await uow.stock.add_on_hand(move.sku, move.warehouse_code, move.quantity, now)
            context = _context(deps, expected, AuditAction.RETURN, AdjustmentReason.RETURNED)
        else:
            change = await uow.stock.add_damaged(move.sku, move.warehouse_code, move.quantity, now)
            context = _context(deps, expected, AuditAction.RETURN_DAMAGED, AdjustmentReason.DAMAGED)
        if change is None:  # adding units is never refused by the row's rules
            raise RuntimeError(f"return of {move.sku} to {move.warehouse_code} was refused")
        changes.append(change)
        entries.append(AuditEntry.record(deps.new_id(), change, context, now))
    for sku, warehouse_code, quantity in settlement.missing:
        level = await uow.stock.get(sku, warehouse_code)
        if level is None:
            continue
        unchanged = StockChange(
            sku=sku,
            warehouse_code=warehouse_code,
            on_hand_before=level.on_hand,
            on_hand_after=level.on_hand,
            reserved_before=level.reserved,
            reserved_after=level.reserved,
            updated_at=level.updated_at,
            damaged_before=level.damaged,
            damaged_after=level.damaged,
        )
        context = _context(
            deps, expected, AuditAction.RETURN_MISSING, AdjustmentReason.RETURNED, missing=quantity
        )
        entries.append(AuditEntry.record(deps.new_id(), unchanged, context, now))
    await events.expected_return_changed(uow, expected)
    await uow.audit.add(entries)
    await events.stock_adjusted(uow, entries)
    await events.availability_changed(uow, changes)


def _context(
    deps: Deps,
    expected: ExpectedReturn,
    action: AuditAction,
    reason: AdjustmentReason,
    *,
    missing: int = 0,
) -> AuditContext:
    what = f"{missing} units expected back never arrived" if missing else "returned by the buyer"
    return AuditContext(
        action=action,
        actor=f"tcc:{expected.branch.gid}/{expected.branch.branch_id}",
        reason=reason,
        note=f"order {expected.order_id}: {what} (request {return_request_id(expected)})",
        trace_id=deps.trace_id(),
    )
