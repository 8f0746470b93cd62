"""Returns: the goods one refund's TCC branch expects back, what arrived, how it settles.

An expected return is recorded by the refund's Try against the reservation whose
Confirm deducted the order's stock; the warehouse records receipts against it; its
Confirm restocks what arrived (resellable on hand, damaged apart), its Cancel
releases it. A unit can come back at most once: a return may claim, per SKU, only
what the reservation deducted minus what earlier returns still claim (see
``returnable``), and a reservation with returns is never restocked as unshipped.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from oms_inventory.domain.errors import (
    InvalidRequest,
    ReturnCancelled,
    ReturnClosed,
    ReturnConfirmed,
    ReturnExceedsDeducted,
    TooManyReceipts,
)
from oms_inventory.domain.reservation import MAX_ID_LENGTH, MAX_LINES, BranchKey
from oms_inventory.domain.stock import validate_sku

#: Receipts one return takes (parcels, re-scans); more is a mistake to look at.
MAX_RECEIPTS = 20
MAX_ACTOR_LENGTH = 64


class ReturnState(enum.Enum):
    EXPECTED = "expected"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class Condition(enum.Enum):
    RESELLABLE = "resellable"
    DAMAGED = "damaged"


class DifferenceKind(enum.Enum):
    FEWER = "fewer"
    MORE = "more"
    OTHER_SKU = "other_sku"
    DAMAGED = "damaged"


@dataclass(frozen=True)
class ExpectReturnRequest:
    """A validated Try: positive quantities, each SKU once, at most ``MAX_LINES``."""

    branch: BranchKey
    order_id: str
    reservation_gid: str
    lines: tuple[tuple[str, int], ...]

    @classmethod
    def create(
        cls,
        branch: BranchKey,
        order_id: str,
        reservation_gid: str,
        lines: Sequence[tuple[str, int]],
    ) -> ExpectReturnRequest:
        for field, value in (("order_id", order_id), ("reservation_gid", reservation_gid)):
            if not value.strip() or len(value) > MAX_ID_LENGTH:
                raise InvalidRequest(
                    f"{field} is required (at most {MAX_ID_LENGTH} characters)",
                    metadata={"field": field},
                )
        checked = _lines(lines, "lines")
        return cls(branch, order_id.strip(), reservation_gid.strip(), checked)


def _lines(lines: Sequence[tuple[str, int]], field: str) -> tuple[tuple[str, int], ...]:
    if not lines:
        raise InvalidRequest("at least one line is required", metadata={"field": field})
    if len(lines) > MAX_LINES:
        raise InvalidRequest(f"at most {MAX_LINES} lines", metadata={"field": field})
    seen: set[str] = set()
    checked = []
    for index, (raw_sku, quantity) in enumerate(lines):
        sku = validate_sku(raw_sku, f"{field}[{index}].sku")
        _positive(quantity, f"{field}[{index}].quantity", sku)
        if sku in seen:
            raise InvalidRequest(
                f"SKU {sku} appears more than once",
                metadata={"field": f"{field}[{index}].sku", "sku": sku},
            )
        seen.add(sku)
        checked.append((sku, quantity))
    return tuple(checked)


def _positive(quantity: int, field: str, sku: str) -> None:
    if quantity <= 0:
        raise InvalidRequest(
            f"quantity of {sku} must be positive, got {quantity}",
            metadata={"field": field, "sku": sku},
        )


@dataclass(frozen=True)
class ReceiptLine:
    sku: str
    condition: Condition
    quantity: int


@dataclass(frozen=True)
class Receipt:
    """One scan of a returned parcel; ``request_id`` makes it idempotent."""

    request_id: str
    warehouse_code: str
    lines: tuple[ReceiptLine, ...]
    actor: str
    received_at: datetime

    @classmethod
    def create(
        cls,
        request_id: str,
        warehouse_code: str,
        lines: Sequence[tuple[str, Condition, int]],
        actor: str,
        now: datetime,
    ) -> Receipt:
        if not request_id.strip() or len(request_id) > MAX_ID_LENGTH:
            raise InvalidRequest(
                f"request_id is required (at most {MAX_ID_LENGTH} characters)",
                metadata={"field": "request_id"},
            )
        if not warehouse_code.strip():
            raise InvalidRequest("warehouse_code is required", metadata={"field": "warehouse_code"})
        if len(actor) > MAX_ACTOR_LENGTH:
            raise InvalidRequest("actor is too long", metadata={"field": "actor"})
        if not lines:
            raise InvalidRequest("at least one line is required", metadata={"field": "lines"})
        if len(lines) > MAX_LINES:
            raise InvalidRequest(f"at most {MAX_LINES} lines", metadata={"field": "lines"})
        seen: set[tuple[str, Condition]] = set()
        checked = []
        for index, (raw_sku, condition, quantity) in enumerate(lines):
            sku = validate_sku(raw_sku, f"lines[{index}].sku")
            _positive(quantity, f"lines[{index}].quantity", sku)
            if (sku, condition) in seen:
                raise InvalidRequest(
                    f"SKU {sku} appears more than once as {condition.value}",
                    metadata={"field": f"lines[{index}]", "sku": sku},
                )
            seen.add((sku, condition))
            checked.append(ReceiptLine(sku, condition, quantity))
        return cls(request_id, warehouse_code.strip(), tuple(checked), actor.strip(), now)

    def same_scan(self, other: Receipt) -> bool:
        """Whether ``other`` (a request with the same id) asks for the same receipt."""
        return self.warehouse_code == other.warehouse_code and sorted(
            self.lines, key=_line_key
        ) == sorted(other.lines, key=_line_key)


def _line_key(line: ReceiptLine) -> tuple[str, str, int]:
    return (line.sku, line.condition.value, line.quantity)


@dataclass(frozen=True)
class ExpectedLine:
    sku: str
    quantity: int
    #: Where the order's units of the SKU were deducted (where they most likely come back).
    source_warehouses: tuple[str, ...]


@dataclass(frozen=True)
class ReturnMove:
    """Units of a SKU a Confirm puts back, in one warehouse, in one condition."""

    sku: str
    warehouse_code: str
    condition: Condition
    quantity: int


@dataclass(frozen=True)
class LineOutcome:
    """Per expected SKU: what arrived and how it settles (restocked and damaged are
    what a Confirm moves; missing is what never came)."""

    sku: str
    received_resellable: int
    received_damaged: int
    restocked: int
    damaged: int
    missing: int


@dataclass(frozen=True)
class Difference:
    kind: DifferenceKind
    sku: str
    quantity: int


@dataclass(frozen=True)
class Settlement:
    """What a Confirm does: ``moves`` sorted by (sku, warehouse, condition); ``missing``
    per SKU with the warehouse the note goes to."""

    moves: tuple[ReturnMove, ...]
    missing: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class ExpectedReturn:
    branch: BranchKey
    order_id: str
    reservation_gid: str
    state: ReturnState
    lines: tuple[ExpectedLine, ...]
    receipts: tuple[Receipt, ...]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def expect(
        cls,
        request: ExpectReturnRequest,
        deducted: Mapping[str, tuple[int, tuple[str, ...]]],
        earlier: Sequence[ExpectedReturn],
        now: datetime,
    ) -> ExpectedReturn:
        """The new expectation; each line within what the reservation deducted of its SKU
        (``deducted``: units and source warehouses per SKU) minus what ``earlier``
        returns of the same reservation claim."""
        left = returnable({sku: units for sku, (units, _) in deducted.items()}, earlier)
        lines = []
        for sku, quantity in request.lines:
            if quantity > left.get(sku, 0):
                raise ReturnExceedsDeducted(
                    f"cannot expect {quantity} of {sku} back for order {request.order_id}: "
                    f"{left.get(sku, 0)} returnable",
                    metadata={
                        "sku": sku,
                        "requested": str(quantity),
                        "returnable": str(left.get(sku, 0)),
                    },
                )
            lines.append(ExpectedLine(sku, quantity, deducted[sku][1]))
        return cls(
            branch=request.branch,
            order_id=request.order_id,
            reservation_gid=request.reservation_gid,
            state=ReturnState.EXPECTED,
            lines=tuple(lines),
            receipts=(),
            created_at=now,
            updated_at=now,
        )

    def receive(self, receipt: Receipt) -> ExpectedReturn:
        """The return with ``receipt`` added; only while it is expected."""
        if self.state is not ReturnState.EXPECTED:
            raise ReturnClosed(
                f"return {self.branch.gid}/{self.branch.branch_id} is {self.state.value}; "
                "it takes no more receipts",
                metadata={**self._key(), "state": self.state.name},
            )
        if len(self.receipts) >= MAX_RECEIPTS:
            raise TooManyReceipts(
                f"return {self.branch.gid}/{self.branch.branch_id} already has "
                f"{MAX_RECEIPTS} receipts",
                metadata={**self._key(), "max": str(MAX_RECEIPTS)},
            )
        return replace(self, receipts=(*self.receipts, receipt), updated_at=receipt.received_at)

    def confirm(self, now: datetime) -> ExpectedReturn | None:
        """The confirmed return, or None when it already was (a repeat)."""
        if self.state is ReturnState.CONFIRMED:
            return None
        if self.state is ReturnState.CANCELLED:
            raise ReturnCancelled(
                f"return {self.branch.gid}/{self.branch.branch_id} was cancelled",
                metadata=self._key(),
            )
        return replace(self, state=ReturnState.CONFIRMED, updated_at=now)

    def cancel(self, now: datetime) -> ExpectedReturn | None:
        """The cancelled return, or None when it already was (a repeat)."""
        if self.state is ReturnState.CANCELLED:
            return None
        if self.state is ReturnState.CONFIRMED:
            raise ReturnConfirmed(
                f"return {self.branch.gid}/{self.branch.branch_id} was confirmed; "
                "its goods are restocked",
                metadata=self._key(),
            )
        return replace(self, state=ReturnState.CANCELLED, updated_at=now)

    # ------------------------------------------------------------------ reading
    def received(self) -> dict[tuple[str, Condition], int]:
        """Units received per (SKU, condition), over every receipt."""
        totals: dict[tuple[str, Condition], int] = {}
        for receipt in self.receipts:
            for line in receipt.lines:
                key = (line.sku, line.condition)
                totals[key] = totals.get(key, 0) + line.quantity
        return totals

    def outcomes(self) -> list[LineOutcome]:
        """Per expected SKU, in line order. Of what arrived, at most the expected units
        count (resellable first): the rest is excess, left to an agent."""
        received = self.received()
        out = []
        for line in self.lines:
            fit = received.get((line.sku, Condition.RESELLABLE), 0)
            broken = received.get((line.sku, Condition.DAMAGED), 0)
            restocked = min(fit, line.quantity)
            damaged = min(broken, line.quantity - restocked)
            missing = line.quantity - restocked - damaged
            out.append(LineOutcome(line.sku, fit, broken, restocked, damaged, missing))
        return out

    def differences(self) -> list[Difference]:
        """Every way what arrived differs from what was expected (empty: it matches)."""
        found = []
        received = self.received()
        expected = {line.sku for line in self.lines}
        for outcome, line in zip(self.outcomes(), self.lines, strict=True):
            arrived = outcome.received_resellable + outcome.received_damaged
            if arrived < line.quantity:
                found.append(Difference(DifferenceKind.FEWER, line.sku, line.quantity - arrived))
            if arrived > line.quantity:
                found.append(Difference(DifferenceKind.MORE, line.sku, arrived - line.quantity))
            if outcome.received_damaged:
                found.append(Difference(DifferenceKind.DAMAGED, line.sku, outcome.received_damaged))
        others: dict[str, int] = {}
        for (sku, _), quantity in received.items():
            if sku not in expected:
                others[sku] = others.get(sku, 0) + quantity
        found.extend(Difference(DifferenceKind.OTHER_SKU, s, q) for s, q in sorted(others.items()))
        return found

    def claims(self) -> dict[str, int]:
        """Units of the reservation this return holds per SKU: all it expects while open,
        what it restocked or put aside once confirmed (a missing unit may still come
        back with a later return), nothing once cancelled."""
        if self.state is ReturnState.CANCELLED:
            return {}
        if self.state is ReturnState.EXPECTED:
            return {line.sku: line.quantity for line in self.lines}
        return {o.sku: o.restocked + o.damaged for o in self.outcomes()}

    def settlement(self) -> Settlement:
        """The moves of a Confirm: per SKU the counted units, each in the warehouse that
        received it (receipts in order, resellable first), and the missing units noted
        at the SKU's first source warehouse."""
        moves: dict[tuple[str, str, Condition], int] = {}
        missing = []
        for outcome, line in zip(self.outcomes(), self.lines, strict=True):
            for condition, count in (
                (Condition.RESELLABLE, outcome.restocked),
                (Condition.DAMAGED, outcome.damaged),
            ):
                for warehouse, quantity in self._take(line.sku, condition, count):
                    key = (line.sku, warehouse, condition)
                    moves[key] = moves.get(key, 0) + quantity
            if outcome.missing and line.source_warehouses:
                missing.append((line.sku, line.source_warehouses[0], outcome.missing))
        ordered = sorted(moves.items(), key=lambda item: (item[0][0], item[0][1], item[0][2].value))
        return Settlement(tuple(ReturnMove(s, w, c, q) for (s, w, c), q in ordered), tuple(missing))

    def _take(self, sku: str, condition: Condition, count: int) -> Iterable[tuple[str, int]]:
        """``count`` units of ``sku`` in ``condition`` from the receipts, oldest first."""
        for receipt in self.receipts:
            for line in receipt.lines:
                if count <= 0:
                    return
                if line.sku == sku and line.condition is condition:
                    taken = min(line.quantity, count)
                    count -= taken
                    yield receipt.warehouse_code, taken

    def _key(self) -> dict[str, str]:
        return {"gid": self.branch.gid, "branch_id": self.branch.branch_id}


def returnable(deducted: Mapping[str, int], earlier: Iterable[ExpectedReturn]) -> dict[str, int]:
    """Per SKU, the units a new return may still expect: deducted minus earlier claims."""
    left = dict(deducted)
    for other in earlier:
        for sku, claimed in other.claims().items():
            left[sku] = left.get(sku, 0) - claimed
    return left
