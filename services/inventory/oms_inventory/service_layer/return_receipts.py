"""Use case: a warehouse records what it found in a returned parcel (idempotent by
request id) and learns how it differs from what was expected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oms_inventory.adapters.unit_of_work import InventoryUnitOfWork
from oms_inventory.domain.errors import (
    ExpectedReturnMissing,
    RequestIdReused,
    ReturnAmbiguous,
    StockContention,
    WarehouseNotFound,
)
from oms_inventory.domain.reservation import BranchKey
from oms_inventory.domain.returns import Condition, ExpectedReturn, Receipt
from oms_inventory.service_layer import events
from oms_inventory.service_layer.deps import MAX_ATTEMPTS, Deps


@dataclass(frozen=True)
class ReceiveCommand:
    """``branch`` names the return, or ``order_id`` (when the order has one open return)."""

    branch: BranchKey | None
    order_id: str
    warehouse_code: str
    lines: Sequence[tuple[str, Condition, int]]
    request_id: str
    actor: str = ""


class ReceiptService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def receive(self, command: ReceiveCommand) -> ExpectedReturn:
        """The return with the receipt; a repeated request id answers it as it stands."""
        receipt = Receipt.create(
            command.request_id,
            command.warehouse_code,
            command.lines,
            command.actor,
            self._deps.clock.now(),
        )
        for _ in range(MAX_ATTEMPTS):
            async with self._deps.uow() as uow:
                stored = await uow.returns.receipt(receipt.request_id)
                if stored is not None:
                    return await _repeat(uow, command, receipt, stored)
                branch = command.branch or await _open_return_of(uow, command.order_id)
                if await uow.warehouses.get(receipt.warehouse_code) is None:
                    raise WarehouseNotFound(
                        f"no warehouse {receipt.warehouse_code}",
                        metadata={"warehouse_code": receipt.warehouse_code},
                    )
                held = await uow.returns.hold_open(branch, receipt.received_at)
                expected = await uow.returns.get(branch)  # read after the hold: every receipt
                if expected is None:
                    raise _missing(branch)
                received = expected.receive(receipt)  # refuses a closed return
                if not held:
                    continue  # opened or closed meanwhile: look again
                if not await uow.returns.add_receipt(branch, receipt):
                    continue  # the same request id just went in: answer it as a repeat
                await events.expected_return_changed(uow, received)
                await uow.commit()
                return received
        raise StockContention("return kept changing while receiving; retry")


async def _open_return_of(uow: InventoryUnitOfWork, order_id: str) -> BranchKey:
    found = await uow.returns.open_for_order(order_id, limit=2)
    if not found:
        raise ExpectedReturnMissing(
            f"order {order_id} has no open return", metadata={"order_id": order_id}
        )
    if len(found) > 1:
        raise ReturnAmbiguous(
            f"order {order_id} has several open returns: name one by its tcc",
            metadata={"order_id": order_id, "gids": ",".join(b.gid for b in found)},
        )
    return found[0]


async def _repeat(
    uow: InventoryUnitOfWork,
    command: ReceiveCommand,
    receipt: Receipt,
    stored: tuple[BranchKey, Receipt],
) -> ExpectedReturn:
    """A request id seen before: the same scan answers the return now (also once it is
    closed); a different one is refused."""
    branch, stored_receipt = stored
    expected = await uow.returns.get(branch)
    if expected is None:
        raise _missing(branch)
    same_target = (
        command.branch == branch if command.branch else command.order_id == expected.order_id
    )
    if not same_target or not stored_receipt.same_scan(receipt):
        raise RequestIdReused(
            f"request_id {receipt.request_id} was used for a different receipt",
            metadata={"request_id": receipt.request_id},
        )
    return expected


def _missing(branch: BranchKey) -> ExpectedReturnMissing:
    return ExpectedReturnMissing(
        f"no expected return for {branch.gid}/{branch.branch_id}",
        metadata={"gid": branch.gid, "branch_id": branch.branch_id},
    )
