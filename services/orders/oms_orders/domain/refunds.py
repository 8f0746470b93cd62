"""Refunds as orders sees them: amounts frozen by refunds in flight, then refunded.

The refundable amount of an order is ``paid - refunded - frozen``. A refund
freezes its amount first (the Try of the refund TCC, coordinated by
aftersales), then either records it (Confirm) or releases it (Cancel). The
check and the freeze happen in one conditional update (see
``adapters/refund_repository.py``), so concurrent refunds can never together
exceed what was paid.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from omslib.errors import FailedPrecondition

from oms_orders.domain.errors import InvalidRequest
from oms_orders.domain.values import Money


class FreezeState(enum.Enum):
    FROZEN = "FROZEN"
    REFUNDED = "REFUNDED"
    RELEASED = "RELEASED"


@dataclass(frozen=True)
class RefundFreeze:
    """One refund branch's hold on an order's refundable amount."""

    gid: str
    branch_id: str
    order_id: str
    amount: Money
    state: FreezeState
    create_time: datetime
    update_time: datetime


class RefundExceedsRefundable(FailedPrecondition):
    """The refund asks for more than the order can still refund (``refundable`` in metadata)."""

    reason = "REFUND_EXCEEDS_REFUNDABLE"


class OrderNotPaid(FailedPrecondition):
    """Nothing was paid, so nothing can be refunded."""

    reason = "ORDER_NOT_PAID"


class FreezeAfterCancel(FailedPrecondition):
    """The refund's Cancel arrived before this Try: the Try is refused (no hanging)."""

    reason = "REFUND_FREEZE_CANCELLED"


class FreezeAlreadyRefunded(FailedPrecondition):
    """A Cancel of a refund already recorded: it cannot be undone here."""

    reason = "REFUND_ALREADY_RECORDED"


class FreezeNotFound(FailedPrecondition):
    """A Confirm of a refund that was never frozen (or was released)."""

    reason = "REFUND_FREEZE_NOT_FOUND"


def check_refund_amount(amount: Money, paid: Money | None) -> None:
    """The amount must be positive and in the payment's currency, of a paid order."""
    if paid is None:
        raise OrderNotPaid("the order is not paid: nothing to refund")
    if amount.minor_units <= 0:
        raise InvalidRequest(
            "amount: a refund must be more than zero", metadata={"field": "amount"}
        )
    if amount.currency != paid.currency:
        raise InvalidRequest(
            f"amount: the refund must be in the payment's currency ({paid.currency})",
            metadata={"field": "amount"},
        )
