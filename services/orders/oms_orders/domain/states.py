"""Order states and the explicit table of legal moves between them."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from oms_orders.domain.errors import InvalidTransition


class OrderState(enum.Enum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    IN_REVIEW = "IN_REVIEW"
    ALLOCATED = "ALLOCATED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


S = OrderState

#: States an order may be created in (the move from "no state").
INITIAL_STATES: frozenset[OrderState] = frozenset({S.PENDING_PAYMENT})

#: Every legal move; anything absent is refused with INVALID_TRANSITION.
TRANSITIONS: Mapping[OrderState, frozenset[OrderState]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED, S.REJECTED}),
    S.PAID: frozenset({S.IN_REVIEW, S.ALLOCATED, S.CANCELLED}),
    S.IN_REVIEW: frozenset({S.ALLOCATED, S.REJECTED, S.CANCELLED}),
    S.ALLOCATED: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}

FINAL_STATES: frozenset[OrderState] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


def can_move(current: OrderState | None, requested: OrderState) -> bool:
    """True when the table allows ``current -> requested`` (None: a new order)."""
    if current is None:
        return requested in INITIAL_STATES
    return requested in TRANSITIONS[current]


def check_move(current: OrderState | None, requested: OrderState) -> None:
    """Raise :class:`InvalidTransition` unless ``current -> requested`` is legal."""
    if not can_move(current, requested):
        shown = current.value if current is not None else "NONE"
        raise InvalidTransition(
            f"an order cannot move from {shown} to {requested.value}",
            metadata={"current": shown, "requested": requested.value},
        )
