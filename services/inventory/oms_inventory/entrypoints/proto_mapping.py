"""Proto <-> domain conversion for InventoryService."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.tcc.v1 import tcc_pb2

from oms_inventory.domain.audit import AuditEntry
from oms_inventory.domain.reservation import BranchKey, Reservation, ReservationState
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
    )


def availability_to_proto(availability: Availability) -> ipb.Availability:
    return ipb.Availability(
        sku=availability.sku,
        on_hand=availability.on_hand,
        reserved=availability.reserved,
        available=availability.available,
        warehouses=[stock_to_proto(level) for level in availability.levels],
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
