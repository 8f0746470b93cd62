"""Stock of one SKU in one warehouse, and the rules for changing it by hand."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from oms_inventory.domain.errors import BelowReserved, InvalidRequest, insufficient

MAX_SKU_LENGTH = 64


class AdjustmentReason(enum.Enum):
    """Why stock changed outside the order flow (mirrors the proto enum)."""

    UNSPECIFIED = "unspecified"
    RECEIVED = "received"
    COUNT_CORRECTION = "count_correction"
    DAMAGED = "damaged"
    RETURNED = "returned"
    TRANSFER = "transfer"
    MANUAL = "manual"


@dataclass(frozen=True)
class StockLevel:
    sku: str
    warehouse_code: str
    on_hand: int
    reserved: int
    updated_at: datetime | None = None
    #: Returned units not fit to sell: kept apart, never on hand or available.
    damaged: int = 0

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved)


@dataclass(frozen=True)
class Availability:
    """One SKU across warehouses."""

    sku: str
    levels: tuple[StockLevel, ...]

    @property
    def on_hand(self) -> int:
        return sum(level.on_hand for level in self.levels)

    @property
    def reserved(self) -> int:
        return sum(level.reserved for level in self.levels)

    @property
    def available(self) -> int:
        return sum(level.available for level in self.levels)

    @property
    def damaged(self) -> int:
        return sum(level.damaged for level in self.levels)


def validate_sku(sku: str, field: str = "sku") -> str:
    sku = sku.strip()
    if not sku or len(sku) > MAX_SKU_LENGTH or any(c.isspace() for c in sku):
        raise InvalidRequest(
            f"{field} {sku!r} must be 1-{MAX_SKU_LENGTH} characters without spaces",
            metadata={"field": field},
        )
    return sku


def validate_manual_change(reason: AdjustmentReason, note: str) -> None:
    """A manual change must say why: a reason, and words when the reason is MANUAL."""
    if reason is AdjustmentReason.UNSPECIFIED:
        raise InvalidRequest("a reason is required", metadata={"field": "reason"})
    if reason is AdjustmentReason.MANUAL and not note.strip():
        raise InvalidRequest("a MANUAL change needs a note saying why", metadata={"field": "note"})


def validate_new_on_hand(on_hand: int) -> None:
    if on_hand < 0:
        raise InvalidRequest(
            f"on_hand must not be negative, got {on_hand}", metadata={"field": "on_hand"}
        )


def validate_delta(delta: int) -> None:
    if delta == 0:
        raise InvalidRequest("delta must not be zero", metadata={"field": "delta"})


def check_set(level: StockLevel, on_hand: int) -> None:
    """Setting on hand below what live reservations hold would oversell them."""
    if on_hand < level.reserved:
        raise BelowReserved(
            f"cannot set {level.sku} in {level.warehouse_code} to {on_hand}: "
            f"{level.reserved} units are reserved",
            metadata={
                "sku": level.sku,
                "warehouse_code": level.warehouse_code,
                "on_hand": str(on_hand),
                "reserved": str(level.reserved),
            },
        )


def check_adjust(level: StockLevel, delta: int) -> None:
    """Removing units never takes available stock below zero."""
    if delta < 0 and level.on_hand + delta < level.reserved:
        raise insufficient(level.sku, -delta, level.available)
