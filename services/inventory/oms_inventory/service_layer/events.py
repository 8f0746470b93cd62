"""The events of inventory's changes, written by the use cases in the change's transaction.

Stream ``oms.inventory``. Aggregates: ``reservation``/<gid> for
StockReservationChanged; ``return``/<gid> for ExpectedReturnChanged; ``sku``/<sku> for
StockAdjusted and AvailabilityChanged, so a consumer sees a SKU's manual changes and
availability steps in one order.
"""

from __future__ import annotations

from collections.abc import Sequence

from oms.events.v1.inventory_events_pb2 import (
    AvailabilityChanged,
    ExpectedReturnChanged,
    StockAdjusted,
    StockReservationChanged,
)
from omslib.outbox import STREAM_INVENTORY

from oms_inventory.adapters.proto_mapping import (
    audit_to_proto,
    availability_to_proto,
    expected_return_to_proto,
    reservation_to_proto,
)
from oms_inventory.adapters.unit_of_work import InventoryUnitOfWork
from oms_inventory.domain.audit import AuditEntry, StockChange, skus_with_changed_availability
from oms_inventory.domain.reservation import Reservation
from oms_inventory.domain.returns import ExpectedReturn
from oms_inventory.domain.stock import Availability, StockLevel

RESERVATION = "reservation"
RETURN = "return"
SKU = "sku"


async def reservation_changed(uow: InventoryUnitOfWork, reservation: Reservation) -> None:
    """Reserved, confirmed, cancelled or expired: the reservation after the change."""
    payload = StockReservationChanged(reservation=reservation_to_proto(reservation))
    await uow.emit(STREAM_INVENTORY, RESERVATION, reservation.branch.gid, payload)


async def expected_return_changed(uow: InventoryUnitOfWork, expected: ExpectedReturn) -> None:
    """Expected (Try), received, confirmed (restocked) or cancelled: the return after it."""
    payload = ExpectedReturnChanged(expected_return=expected_return_to_proto(expected))
    await uow.emit(STREAM_INVENTORY, RETURN, expected.branch.gid, payload)


async def stock_adjusted(uow: InventoryUnitOfWork, entries: Sequence[AuditEntry]) -> None:
    """A change outside the order flow (set, adjust, receive): its audit entry."""
    for entry in entries:
        payload = StockAdjusted(entry=audit_to_proto(entry))
        await uow.emit(STREAM_INVENTORY, SKU, entry.sku, payload)


async def availability_changed(
    uow: InventoryUnitOfWork,
    changes: Sequence[StockChange],
    *,
    read_before: Sequence[StockLevel] | None = None,
) -> None:
    """One AvailabilityChanged per SKU whose available stock moved, with its levels now.

    The changed rows' levels are those their UPDATE returned (rows this transaction
    holds locked). When ``read_before`` (the SKUs' rows as read earlier in this
    transaction) shows that every row of those SKUs was changed, the levels are
    complete without reading again; otherwise the SKUs' rows are read now, as before.
    """
    skus = skus_with_changed_availability(changes)
    if not skus:
        return
    by_sku: dict[str, list[StockLevel]] = {sku: [] for sku in skus}
    returned = _levels_after(changes)
    if read_before is not None and all(
        (level.sku, level.warehouse_code) in returned
        for level in read_before
        if level.sku in by_sku
    ):
        for key in sorted(returned):
            if key[0] in by_sku:
                by_sku[key[0]].append(returned[key])
    else:
        for level in await uow.stock.for_skus(skus):
            by_sku[level.sku].append(level)
    for sku in skus:  # sorted: concurrent writers lock sequence rows in one order
        availability = Availability(sku, tuple(by_sku[sku]))
        payload = AvailabilityChanged(availability=availability_to_proto(availability))
        await uow.emit(STREAM_INVENTORY, SKU, sku, payload)


def _levels_after(changes: Sequence[StockChange]) -> dict[tuple[str, str], StockLevel]:
    """Each changed row as its last UPDATE of this transaction returned it."""
    return {
        (change.sku, change.warehouse_code): StockLevel(
            sku=change.sku,
            warehouse_code=change.warehouse_code,
            on_hand=change.on_hand_after,
            reserved=change.reserved_after,
            updated_at=change.updated_at,
        )
        for change in changes
    }
