"""Proto <-> domain conversion for InventoryService."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.tcc.v1 import tcc_pb2

from oms_inventory.domain.audit import AuditEntry
from oms_inventory.domain.errors import InvalidRequest
from oms_inventory.domain.reservation import BranchKey, Reservation, ReservationState
from oms_inventory.domain.returns import (
    Condition,
    DifferenceKind,
    ExpectedReturn,
    Receipt,
    ReturnState,
)
from oms_inventory.domain.stock import AdjustmentReason, Availability, StockLevel
from oms_inventory.domain.warehouse import Warehouse

_REASONS = {
    AdjustmentReason.UNSPECIFIED: ipb.ADJUSTMENT_REASON_UNSPECIFIED,
    AdjustmentReason.RECEIVED: ipb.ADJUSTMENT_REASON_RECEIVED,
    AdjustmentReason.COUNT_CORRECTION: ipb.ADJUSTMENT_REASON_COUNT_CORRECTION,
    AdjustmentReason.DAMAGED: ipb.ADJUSTMENT_REASON_DAMAGED,
    AdjustmentReason.RETURNED: ipb.ADJUSTMENT_REASON_RETURNED,
    AdjustmentReason.TRANSFER: ipb.ADJUSTMENT_REASON_TRANSFER,
    AdjustmentReason.MANUAL: ipb.ADJUSTMENT_REASON_MANUAL,
}
_REASONS_BACK = {number: reason for reason, number in _REASONS.items()}

_STATES = {
    ReservationState.RESERVED: ipb.RESERVATION_STATE_RESERVED,
    ReservationState.CONFIRMED: ipb.RESERVATION_STATE_CONFIRMED,
    ReservationState.CANCELLED: ipb.RESERVATION_STATE_CANCELLED,
    ReservationState.EXPIRED: ipb.RESERVATION_STATE_EXPIRED,
    ReservationState.RESTOCKED: ipb.RESERVATION_STATE_RESTOCKED,
}

_RETURN_STATES = {
    ReturnState.EXPECTED: ipb.EXPECTED_RETURN_STATE_EXPECTED,
    ReturnState.CONFIRMED: ipb.EXPECTED_RETURN_STATE_CONFIRMED,
    ReturnState.CANCELLED: ipb.EXPECTED_RETURN_STATE_CANCELLED,
}

_CONDITIONS = {
    Condition.RESELLABLE: ipb.RETURN_CONDITION_RESELLABLE,
    Condition.DAMAGED: ipb.RETURN_CONDITION_DAMAGED,
}
_CONDITIONS_BACK = {number: condition for condition, number in _CONDITIONS.items()}

_DIFFERENCES = {
    DifferenceKind.FEWER: ipb.RETURN_DIFFERENCE_KIND_FEWER,
    DifferenceKind.MORE: ipb.RETURN_DIFFERENCE_KIND_MORE,
    DifferenceKind.OTHER_SKU: ipb.RETURN_DIFFERENCE_KIND_OTHER_SKU,
    DifferenceKind.DAMAGED: ipb.RETURN_DIFFERENCE_KIND_DAMAGED,
}

WAREHOUSE_PREFIX = "warehouses/"


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def datetime_or_none(message: object, field: str, value: Timestamp) -> datetime | None:
    if not message.HasField(field):  # type: ignore[attr-defined]
        return None
    return value.ToDatetime(tzinfo=UTC)


def reason_from_proto(number: int) -> AdjustmentReason:
    """Unknown numbers read as UNSPECIFIED, which the domain refuses."""
    return _REASONS_BACK.get(number, AdjustmentReason.UNSPECIFIED)  # type: ignore[call-overload]


def branch_from_proto(tcc: tcc_pb2.TccContext) -> BranchKey:
    return BranchKey.create(tcc.gid, tcc.branch_id)


def warehouse_from_proto(message: ipb.Warehouse) -> Warehouse:
    code = message.code or message.name.removeprefix(WAREHOUSE_PREFIX)
    return Warehouse.create(
        code=code,
        display_name=message.display_name,
        province=message.province,
        city=message.city,
        active=message.active,
        nearby_provinces=list(message.nearby_provinces),
    )


def warehouse_to_proto(warehouse: Warehouse) -> ipb.Warehouse:
    return ipb.Warehouse(
        name=f"{WAREHOUSE_PREFIX}{warehouse.code}",
        code=warehouse.code,
        display_name=warehouse.display_name,
        province=warehouse.province,
        city=warehouse.city,
        active=warehouse.active,
        nearby_provinces=list(warehouse.nearby_provinces),
    )


def stock_to_proto(level: StockLevel) -> ipb.StockLevel:
    return ipb.StockLevel(
        sku=level.sku,
        warehouse_code=level.warehouse_code,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        update_time=timestamp(level.updated_at),
        damaged=level.damaged,
    )


def availability_to_proto(availability: Availability) -> ipb.Availability:
    return ipb.Availability(
        sku=availability.sku,
        on_hand=availability.on_hand,
        reserved=availability.reserved,
        available=availability.available,
        warehouses=[stock_to_proto(level) for level in availability.levels],
        damaged=availability.damaged,
    )


def audit_to_proto(entry: AuditEntry) -> ipb.StockAuditEntry:
    return ipb.StockAuditEntry(
        id=entry.id,
        sku=entry.sku,
        warehouse_code=entry.warehouse_code,
        action=entry.action.value,
        reason=_REASONS[entry.reason],
        note=entry.note,
        actor=entry.actor,
        on_hand_before=entry.on_hand_before,
        on_hand_after=entry.on_hand_after,
        reserved_before=entry.reserved_before,
        reserved_after=entry.reserved_after,
        trace_id=entry.trace_id,
        time=timestamp(entry.at),
        damaged_before=entry.damaged_before,
        damaged_after=entry.damaged_after,
    )


def reservation_to_proto(reservation: Reservation) -> ipb.Reservation:
    return ipb.Reservation(
        gid=reservation.branch.gid,
        branch_id=reservation.branch.branch_id,
        order_id=reservation.order_id,
        state=_STATES[reservation.state],
        items=[
            ipb.ReservedItem(sku=i.sku, warehouse_code=i.warehouse_code, quantity=i.quantity)
            for i in reservation.items
        ],
        expire_time=timestamp(reservation.expire_at),
        create_time=timestamp(reservation.created_at),
    )


def condition_from_proto(number: int) -> Condition:
    """The condition of a receipt line (the validation interceptor refuses unset ones)."""
    condition = _CONDITIONS_BACK.get(number)  # type: ignore[call-overload]
    if condition is None:
        raise InvalidRequest("condition is required", metadata={"field": "lines.condition"})
    return condition


def order_id_from_proto(order_id: str) -> str:
    """An order id to look returns up by: required, bounded (also without the interceptor)."""
    order_id = order_id.strip()
    if not order_id or len(order_id) > 128:
        raise InvalidRequest(
            "order_id is required (at most 128 characters)", metadata={"field": "order_id"}
        )
    return order_id


def receipt_to_proto(receipt: Receipt) -> ipb.ReturnReceipt:
    return ipb.ReturnReceipt(
        request_id=receipt.request_id,
        warehouse_code=receipt.warehouse_code,
        lines=[
            ipb.ReturnReceiptLine(
                sku=line.sku, quantity=line.quantity, condition=_CONDITIONS[line.condition]
            )
            for line in receipt.lines
        ],
        actor=receipt.actor,
        receive_time=timestamp(receipt.received_at),
    )


def expected_return_to_proto(expected: ExpectedReturn) -> ipb.ExpectedReturn:
    settled = expected.state is ReturnState.CONFIRMED
    differences = expected.differences()
    return ipb.ExpectedReturn(
        gid=expected.branch.gid,
        branch_id=expected.branch.branch_id,
        order_id=expected.order_id,
        reservation_gid=expected.reservation_gid,
        state=_RETURN_STATES[expected.state],
        lines=[
            ipb.ExpectedReturnLine(
                sku=line.sku,
                expected_quantity=line.quantity,
                source_warehouse_codes=list(line.source_warehouses),
                received_resellable=outcome.received_resellable,
                received_damaged=outcome.received_damaged,
                restocked=outcome.restocked if settled else 0,
                damaged=outcome.damaged if settled else 0,
                missing=outcome.missing if settled else 0,
            )
            for line, outcome in zip(expected.lines, expected.outcomes(), strict=True)
        ],
        differences=[
            ipb.ReturnDifference(kind=_DIFFERENCES[d.kind], sku=d.sku, quantity=d.quantity)
            for d in differences
        ],
        matches=not differences,
        receipts=[receipt_to_proto(r) for r in expected.receipts],
        create_time=timestamp(expected.created_at),
        update_time=timestamp(expected.updated_at),
    )
