"""The order state machine: every legal move is allowed, everything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from oms_orders.domain.errors import InvalidTransition
from oms_orders.domain.order import Order
from oms_orders.domain.snapshot import PlatformOrderSnapshot
from oms_orders.domain.states import FINAL_STATES, TRANSITIONS, OrderState, can_move, check_move
from oms_orders.domain.values import Money, OrderLine, Platform, PlatformOrderStatus

S = OrderState
NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

LEGAL = [
    (S.PENDING_PAYMENT, S.PAID),
    (S.PENDING_PAYMENT, S.CANCELLED),
    (S.PENDING_PAYMENT, S.REJECTED),
    (S.PAID, S.IN_REVIEW),
    (S.PAID, S.ALLOCATED),
    (S.PAID, S.CANCELLED),
    (S.IN_REVIEW, S.ALLOCATED),
    (S.IN_REVIEW, S.REJECTED),
    (S.IN_REVIEW, S.CANCELLED),
    (S.ALLOCATED, S.SHIPPED),
    (S.ALLOCATED, S.CANCELLED),
    (S.SHIPPED, S.DELIVERED),
    (S.DELIVERED, S.COMPLETED),
]


def test_the_table_lists_exactly_the_legal_moves() -> None:
    table = {(a, b) for a, nexts in TRANSITIONS.items() for b in nexts}
    assert table == set(LEGAL)
    assert set(TRANSITIONS) == set(OrderState)


@pytest.mark.parametrize(("current", "requested"), LEGAL)
def test_legal_moves_are_allowed(current: OrderState, requested: OrderState) -> None:
    check_move(current, requested)


@pytest.mark.parametrize(
    ("current", "requested"),
    [(a, b) for a in OrderState for b in OrderState if (a, b) not in LEGAL],
)
def test_every_other_move_is_an_invalid_transition(
    current: OrderState, requested: OrderState
) -> None:
    with pytest.raises(InvalidTransition) as raised:
        check_move(current, requested)
    assert raised.value.reason == "INVALID_TRANSITION"
    assert raised.value.metadata == {"current": current.value, "requested": requested.value}


def test_final_states_have_no_way_out() -> None:
    assert {S.COMPLETED, S.CANCELLED, S.REJECTED} == FINAL_STATES
    assert not [(a, b) for a in FINAL_STATES for b in OrderState if a != b and can_move(a, b)]


def test_new_orders_start_pending_payment_only() -> None:
    assert can_move(None, S.PENDING_PAYMENT)
    assert not can_move(None, S.SHIPPED)


def _order() -> Order:
    snapshot = PlatformOrderSnapshot(
        platform=Platform.SHOP,
        platform_order_id="A1",
        status=PlatformOrderStatus.CREATED,
        platform_status="pending",
        create_time=NOW - timedelta(minutes=5),
        update_time=NOW,
        version=0,
        total=Money(1000, "CNY"),
        lines=(OrderLine("SKU-1", 2, Money(500, "CNY")),),
    )
    return Order.place(snapshot, gid="G1", now=NOW, payment_window=timedelta(minutes=30))


def test_a_placed_order_waits_for_payment_with_a_deadline_from_the_platform_time() -> None:
    order = _order()
    assert order.state is S.PENDING_PAYMENT
    assert order.payment_deadline == NOW + timedelta(minutes=25)
    assert [(t.from_state, t.to_state, t.actor) for t in order.history] == [
        (None, S.PENDING_PAYMENT, "platform:shop")
    ]


def test_moves_are_recorded_in_the_history() -> None:
    order = _order()
    later = NOW + timedelta(minutes=1)
    order.refuse("INSUFFICIENT_STOCK", "not enough stock for SKU SKU-1", at=later)
    assert order.state is S.REJECTED
    assert order.reason_codes == ["INSUFFICIENT_STOCK"]
    last = order.history[-1]
    assert (last.from_state, last.to_state, last.time, last.actor) == (
        S.PENDING_PAYMENT,
        S.REJECTED,
        later,
        "system",
    )


def test_an_illegal_move_leaves_the_order_unchanged() -> None:
    order = _order()
    with pytest.raises(InvalidTransition):
        order.approve(operator="ann", note="", at=NOW)
    assert order.state is S.PENDING_PAYMENT
    assert len(order.history) == 1
