"""The stock audit log: every change of a stock level, with who, why, before and after."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from oms_inventory.domain.stock import AdjustmentReason


class AuditAction(enum.Enum):
    SET = "set"
    ADJUST = "adjust"
    RESERVE = "reserve"
    CONFIRM = "confirm"
    CANCEL = "cancel"
    EXPIRE = "expire"
    RESTOCK = "restock"
    #: A returned unit back on hand (ConfirmExpectReturn).
    RETURN = "return"
    #: A returned unit put in the damaged bucket.
    RETURN_DAMAGED = "return_damaged"
    #: Units expected back that never came: a note, before and after equal.
    RETURN_MISSING = "return_missing"


@dataclass(frozen=True)
class StockChange:
    """One stock row before and after a change (as the database saw it)."""

    sku: str
    warehouse_code: str
    on_hand_before: int
    on_hand_after: int
    reserved_before: int
    reserved_after: int
    #: The row's update time after the change (None when not known).
    updated_at: datetime | None = None
    damaged_before: int = 0
    damaged_after: int = 0

    @property
    def changes_available(self) -> bool:
        """Whether what can still be sold moved (a Confirm deducts on hand and reserved alike)."""
        before = self.on_hand_before - self.reserved_before
        return self.on_hand_after - self.reserved_after != before


def skus_with_changed_availability(changes: Iterable[StockChange]) -> list[str]:
    """The SKUs whose available stock moved, in a stable order (sorted)."""
    return sorted({change.sku for change in changes if change.changes_available})


@dataclass(frozen=True)
class AuditContext:
    """Who made a change, why, and under which trace."""

    action: AuditAction
    actor: str
    reason: AdjustmentReason = AdjustmentReason.UNSPECIFIED
    note: str = ""
    trace_id: str = ""


@dataclass(frozen=True)
class AuditEntry:
    id: str
    sku: str
    warehouse_code: str
    action: AuditAction
    reason: AdjustmentReason
    note: str
    actor: str
    on_hand_before: int
    on_hand_after: int
    reserved_before: int
    reserved_after: int
    trace_id: str
    at: datetime
    damaged_before: int = 0
    damaged_after: int = 0

    @classmethod
    def record(
        cls, entry_id: str, change: StockChange, context: AuditContext, at: datetime
    ) -> AuditEntry:
        return cls(
            id=entry_id,
            sku=change.sku,
            warehouse_code=change.warehouse_code,
            action=context.action,
            reason=context.reason,
            note=context.note,
            actor=context.actor,
            on_hand_before=change.on_hand_before,
            on_hand_after=change.on_hand_after,
            reserved_before=change.reserved_before,
            reserved_after=change.reserved_after,
            trace_id=context.trace_id,
            at=at,
            damaged_before=change.damaged_before,
            damaged_after=change.damaged_after,
        )
