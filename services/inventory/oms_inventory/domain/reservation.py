"""Reservations: the stock one TCC branch locked, and how they end."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from oms_inventory.domain.errors import (
    InvalidRequest,
    ReservationConfirmed,
    ReservationNotConfirmed,
    ReservationReleased,
)
from oms_inventory.domain.stock import validate_sku

MAX_LINES = 200
MAX_ID_LENGTH = 128
MAX_RESTOCK_REASON_LENGTH = 200


class ReservationState(enum.Enum):
    RESERVED = "reserved"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    #: Confirmed, then its units put back on hand (the order ended before shipment).
    RESTOCKED = "restocked"

    @property
    def released(self) -> bool:
        return self in (ReservationState.CANCELLED, ReservationState.EXPIRED)

    @property
    def confirmed(self) -> bool:
        """Whether Confirm has run: a restocked reservation was confirmed first."""
        return self in (ReservationState.CONFIRMED, ReservationState.RESTOCKED)


@dataclass(frozen=True)
class BranchKey:
    """One branch of one global transaction."""

    gid: str
    branch_id: str

    @classmethod
    def create(cls, gid: str, branch_id: str) -> BranchKey:
        for field, value in (("tcc.gid", gid), ("tcc.branch_id", branch_id)):
            if not value.strip() or len(value) > MAX_ID_LENGTH:
                raise InvalidRequest(
                    f"{field} is required (at most {MAX_ID_LENGTH} characters)",
                    metadata={"field": field},
                )
        return cls(gid, branch_id)


@dataclass(frozen=True)
class ReserveLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class ReserveRequest:
    """A validated Try: every line positive, each SKU once."""

    branch: BranchKey
    order_id: str
    lines: tuple[ReserveLine, ...]
    ship_to_province: str
    expire_at: datetime | None

    @classmethod
    def create(
        cls,
        branch: BranchKey,
        order_id: str,
        lines: Sequence[tuple[str, int]],
        ship_to_province: str = "",
        expire_at: datetime | None = None,
    ) -> ReserveRequest:
        if not lines:
            raise InvalidRequest("at least one line is required", metadata={"field": "lines"})
        if len(lines) > MAX_LINES:
            raise InvalidRequest(f"at most {MAX_LINES} lines", metadata={"field": "lines"})
        if len(order_id) > MAX_ID_LENGTH:
            raise InvalidRequest("order_id is too long", metadata={"field": "order_id"})
        seen: set[str] = set()
        checked = []
        for index, (raw_sku, quantity) in enumerate(lines):
            sku = validate_sku(raw_sku, f"lines[{index}].sku")
            if quantity <= 0:
                raise InvalidRequest(
                    f"quantity of {sku} must be positive, got {quantity}",
                    metadata={"field": f"lines[{index}].quantity", "sku": sku},
                )
            if sku in seen:
                raise InvalidRequest(
                    f"SKU {sku} appears more than once",
                    metadata={"field": f"lines[{index}].sku", "sku": sku},
                )
            seen.add(sku)
            checked.append(ReserveLine(sku, quantity))
        return cls(branch, order_id, tuple(checked), ship_to_province.strip(), expire_at)

    @property
    def skus(self) -> list[str]:
        return [line.sku for line in self.lines]

    def deadline(self, now: datetime, default_ttl: timedelta) -> datetime:
        """When a new reservation lapses: the asked deadline, which must be in the future."""
        if self.expire_at is None:
            return now + default_ttl
        if self.expire_at <= now:
            raise InvalidRequest(
                f"expire_time {self.expire_at.isoformat()} is not in the future",
                metadata={"field": "expire_time"},
            )
        return self.expire_at


@dataclass(frozen=True)
class ReservedItem:
    sku: str
    warehouse_code: str
    quantity: int


@dataclass(frozen=True)
class Reservation:
    branch: BranchKey
    order_id: str
    state: ReservationState
    items: tuple[ReservedItem, ...]
    expire_at: datetime
    created_at: datetime
    updated_at: datetime
    ship_to_province: str = ""

    @classmethod
    def reserve(
        cls,
        request: ReserveRequest,
        items: Sequence[ReservedItem],
        expire_at: datetime,
        now: datetime,
    ) -> Reservation:
        return cls(
            branch=request.branch,
            order_id=request.order_id,
            state=ReservationState.RESERVED,
            items=tuple(items),
            expire_at=expire_at,
            created_at=now,
            updated_at=now,
            ship_to_province=request.ship_to_province,
        )

    def confirm(self, now: datetime) -> Reservation | None:
        """The confirmed reservation, or None when it already was (a repeat, also after a
        restock: a late Confirm must not deduct the units again)."""
        if self.state.confirmed:
            return None
        if self.state.released:
            raise ReservationReleased(
                f"reservation {self.branch.gid}/{self.branch.branch_id} was "
                f"{self.state.value}; its stock is no longer held",
                metadata={
                    "gid": self.branch.gid,
                    "branch_id": self.branch.branch_id,
                    "state": self.state.name,
                },
            )
        return replace(self, state=ReservationState.CONFIRMED, updated_at=now)

    def release(self, now: datetime, *, expired: bool = False) -> Reservation | None:
        """The released reservation, or None when it already was (a repeat)."""
        if self.state.released:
            return None
        if self.state.confirmed:
            raise ReservationConfirmed(
                f"reservation {self.branch.gid}/{self.branch.branch_id} was confirmed; "
                "its stock is deducted and cannot be released",
                metadata={"gid": self.branch.gid, "branch_id": self.branch.branch_id},
            )
        state = ReservationState.EXPIRED if expired else ReservationState.CANCELLED
        return replace(self, state=state, updated_at=now)

    def restock(self, now: datetime) -> Reservation | None:
        """The restocked reservation, whose items are the units to put back on hand,
        or None when it already was restocked (a repeat).

        Only deducted stock can go back: a reservation still held, cancelled or
        expired never took units off hand.
        """
        if self.state is ReservationState.RESTOCKED:
            return None
        if self.state is not ReservationState.CONFIRMED:
            raise ReservationNotConfirmed(
                f"reservation {self.branch.gid}/{self.branch.branch_id} is "
                f"{self.state.value}; only a confirmed reservation can be restocked",
                metadata={
                    "gid": self.branch.gid,
                    "branch_id": self.branch.branch_id,
                    "state": self.state.name,
                },
            )
        return replace(self, state=ReservationState.RESTOCKED, updated_at=now)


def validate_restock_reason(reason: str) -> str:
    """The audit log's why of a restock: required, bounded."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_RESTOCK_REASON_LENGTH:
        raise InvalidRequest(
            f"reason is required (at most {MAX_RESTOCK_REASON_LENGTH} characters)",
            metadata={"field": "reason"},
        )
    return reason
