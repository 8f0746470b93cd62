"""The refund aggregate: its state machine, the approval rules and the payout path.

A refund is money going back to a buyer for one order, optionally against goods
coming back. Its amounts are frozen on the order by the TCC Try before it is
stored as anything but REQUESTED; every later move is checked here against
``MOVES``, and an illegal one answers FAILED_PRECONDITION naming both states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from omslib.errors import FailedPrecondition
from omslib.platforms.names import MARKETPLACES


class RefundState(StrEnum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    AWAITING_RETURN = "AWAITING_RETURN"
    RECEIVED = "RECEIVED"
    REFUNDING = "REFUNDING"
    REFUNDED = "REFUNDED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


S = RefundState

#: Every legal move. Terminal states have none.
MOVES: dict[RefundState, frozenset[RefundState]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.AWAITING_RETURN, S.REJECTED, S.CANCELLED, S.FAILED}),
    S.AWAITING_RETURN: frozenset({S.APPROVED, S.RECEIVED, S.REJECTED, S.CANCELLED}),
    S.RECEIVED: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.REFUNDING, S.CANCELLED}),
    S.REFUNDING: frozenset({S.REFUNDED, S.FAILED}),
    S.REFUNDED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
}
TERMINAL = frozenset(s for s, targets in MOVES.items() if not targets)
#: Before the money goes out the refund may still be withdrawn (its freeze released).
WAITING = frozenset({S.REQUESTED, S.AWAITING_RETURN, S.RECEIVED, S.APPROVED})

# Marketplaces (omslib.platforms.names.MARKETPLACES) refund the buyer themselves; we
# record what they did.
PAYOUT_PLATFORM = "platform"
PAYOUT_API = "payment_api"


def payout_path(platform: str) -> str:
    return PAYOUT_PLATFORM if platform.lower() in MARKETPLACES else PAYOUT_API


class IllegalRefundMove(FailedPrecondition):
    reason = "ILLEGAL_REFUND_MOVE"


class RefundNotFound(FailedPrecondition):
    reason = "REFUND_NOT_FOUND"


@dataclass(frozen=True)
class ReturnLine:
    sku: str
    quantity: int
    warehouse_code: str = ""


@dataclass(frozen=True)
class Move:
    """One state change, for the audit trail and the RefundChanged event."""

    before: RefundState
    after: RefundState
    actor: str
    note: str


@dataclass
class Refund:
    refund_id: str
    request_id: str
    order_id: str
    ticket_id: str
    platform: str
    currency: str
    amount: int  # goods, minor units
    shipping: int  # shipping, minor units
    return_lines: list[ReturnLine]
    gid: str
    reservation_gid: str
    payment_reference: str
    shipped: bool
    created_at: datetime
    updated_at: datetime
    state: RefundState = S.REQUESTED
    state_reason: str = ""
    payout_reference: str = ""
    payout_attempts: int = 0
    payout_due_at: datetime | None = None
    differences: list[str] = field(default_factory=list)
    reason: str = ""
    approved_by: str = ""
    refunded_at: datetime | None = None
    version: int = 0

    @property
    def total(self) -> int:
        return self.amount + self.shipping

    @property
    def is_return(self) -> bool:
        return bool(self.return_lines)

    @property
    def payout_path(self) -> str:
        return payout_path(self.platform)

    @property
    def is_final(self) -> bool:
        return self.state in TERMINAL

    def move_to(self, target: RefundState, at: datetime, actor: str, note: str = "") -> Move:
        if target not in MOVES[self.state]:
            raise IllegalRefundMove(
                f"refund {self.refund_id} cannot move from {self.state} to {target}",
                metadata={"from_state": self.state.value, "to_state": target.value},
            )
        move = Move(self.state, target, actor[:64], note[:500])
        self.state = target
        self.updated_at = at
        if target in (S.REJECTED, S.CANCELLED, S.FAILED, S.RECEIVED):
            self.state_reason = note[:500]
        if target is S.APPROVED:
            self.approved_by = actor[:64]
        if target is S.REFUNDED:
            self.refunded_at = at
        return move


@dataclass(frozen=True)
class RefundRules:
    """When a refund is approved without an agent (configurable, OMS_AFTERSALES_REFUND_*)."""

    auto_approve_max_minor_units: int

    def after_try(self, refund: Refund) -> RefundState:
        """Where a refund whose amount is now frozen goes next.

        A return waits for its goods (approved when they arrive as expected); a
        refund-only of an unshipped order at or under the threshold is approved at
        once; anything else waits for an agent.
        """
        if refund.is_return:
            return S.AWAITING_RETURN
        if not refund.shipped and refund.total <= self.auto_approve_max_minor_units:
            return S.APPROVED
        return S.REQUESTED
