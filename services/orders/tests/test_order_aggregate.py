"""The Order aggregate's methods: each checks the table, records the move, and says what
it caused (the events and the stock settlement the handler must log)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from oms_orders.domain.errors import (
    InvalidTransition,
    PaymentAfterCancellation,
    PaymentAmountMismatch,
    PaymentConflict,
    ShippedOrderNotCancellable,
)
from oms_orders.domain.events import (
    OrderAnnounced,
    RefundOwed,
    StateChanged,
    StockEffect,
    StockSettlement,
)
from oms_orders.domain.order import Order, Payment, Shipment
from oms_orders.domain.snapshot import PlatformOrderSnapshot
from oms_orders.domain.states import OrderState
from oms_orders.domain.values import (
    Money,
    OrderLine,
    Platform,
    PlatformOrderStatus,
    StockAllocation,
)

S = OrderState
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TOTAL = Money(1000, "CNY")
SHIP_WITHIN = timedelta(hours=48)


def placed() -> Order:
    snapshot = PlatformOrderSnapshot(
        platform=Platform.SHOP,
        platform_order_id="A1",
        status=PlatformOrderStatus.CREATED,
        platform_status="pending",
        create_time=NOW,
        update_time=NOW,
        version=0,
        total=TOTAL,
        lines=(OrderLine("SKU-1", 2, Money(500, "CNY")),),
    )
    order = Order.place(snapshot, gid="G1", now=NOW, payment_window=timedelta(minutes=30))
    order.record_reservation([StockAllocation("SKU-1", "HZ1", 2)], at=NOW)
    return order


def paid(reasons: list[str] | None = None) -> Order:
    order = placed()
    order.pay(Payment(TOTAL, "PAY-1", NOW), at=NOW, actor="api")
    order.review(reasons or [], at=NOW, ship_within=SHIP_WITHIN)
    return order


def effects(events: list[object]) -> list[StockEffect]:
    return [e.effect for e in events if isinstance(e, StockSettlement)]


def test_the_reservation_announces_the_order_once() -> None:
    snapshot_order = placed()
    assert snapshot_order.announced
    again = snapshot_order.record_reservation([StockAllocation("SKU-1", "HZ1", 2)], at=NOW)
    assert again == []


def test_an_order_whose_reservation_never_answered_is_announced_by_its_ending() -> None:
    order = placed()
    order.allocations = []  # as if the Try never answered
    events = order.expire(at=NOW)
    assert events[0] == OrderAnnounced()
    assert effects(events) == [StockEffect.RELEASE]


def test_payment_deducts_and_a_repeat_of_the_same_payment_is_a_no_op() -> None:
    order = placed()
    events = order.pay(Payment(TOTAL, "PAY-1", NOW), at=NOW, actor="api")
    assert events == [StateChanged(1), StockSettlement(StockEffect.DEDUCT)]
    assert order.state is S.PAID and order.payment is not None
    assert order.pay(Payment(TOTAL, "PAY-1", NOW), at=NOW, actor="api") == []


def test_a_second_payment_with_another_reference_is_a_conflict() -> None:
    order = paid()
    with pytest.raises(PaymentConflict):
        order.pay(Payment(TOTAL, "PAY-2", NOW), at=NOW, actor="api")
    assert order.payment is not None and order.payment.reference == "PAY-1"


@pytest.mark.parametrize(
    "amount", [Money(999, "CNY"), Money(1001, "CNY"), Money(1000, "USD"), Money(-1000, "CNY")]
)
def test_a_payment_that_is_not_the_total_is_refused_and_changes_nothing(amount: Money) -> None:
    order = placed()
    with pytest.raises(PaymentAmountMismatch) as refused:
        order.pay(Payment(amount, "PAY-1", NOW), at=NOW, actor="api")
    assert refused.value.metadata["total"] == "1000 CNY"
    assert order.state is S.PENDING_PAYMENT and order.payment is None


def test_a_payment_of_a_cancelled_order_is_an_exception_to_refund() -> None:
    order = placed()
    order.cancel(reason="buyer", code="CANCELLED", actor="api", at=NOW)
    with pytest.raises(PaymentAfterCancellation):
        order.pay(Payment(TOTAL, "PAY-1", NOW), at=NOW, actor="api")


def test_the_rules_approve_or_hold_for_review_and_set_the_promised_ship_time() -> None:
    approved = paid()
    assert approved.state is S.ALLOCATED
    assert approved.promised_ship_time == NOW + SHIP_WITHIN
    held = paid(["INCOMPLETE_ADDRESS"])
    assert held.state is S.IN_REVIEW
    assert held.reason_codes == ["INCOMPLETE_ADDRESS"]
    assert held.review(["X"], at=NOW, ship_within=SHIP_WITHIN) == []  # reviewed once


@pytest.mark.parametrize("end", ["cancel", "reject", "expire"])
def test_an_unpaid_order_that_ends_releases_its_reservation(end: str) -> None:
    order = placed()
    if end == "cancel":
        events = order.cancel(reason="buyer", code="CANCELLED", actor="api", at=NOW)
    elif end == "reject":
        events = order.reject(reason="fraud", operator="ann", at=NOW)
    else:
        events = order.expire(at=NOW)
    assert effects(events) == [StockEffect.RELEASE]
    assert order.refund_owed is None
    assert not any(isinstance(e, RefundOwed) for e in events)


def test_a_paid_order_cancelled_before_shipment_is_restocked_and_owes_a_refund() -> None:
    order = paid()
    events = order.cancel(reason="buyer", code="CANCELLED", actor="api", at=NOW)
    assert order.state is S.CANCELLED
    assert effects(events) == [StockEffect.RESTOCK]
    assert RefundOwed(TOTAL) in events
    assert order.refund_owed == TOTAL
    assert order.cancel(reason="buyer", code="CANCELLED", actor="api", at=NOW) == []


def test_a_paid_order_rejected_in_review_is_restocked_and_owes_a_refund() -> None:
    order = paid(["AMOUNT_OVER_THRESHOLD"])
    events = order.reject(reason="fraud", operator="ann", at=NOW)
    assert order.state is S.REJECTED
    assert effects(events) == [StockEffect.RESTOCK]
    assert order.reason_codes == ["REJECTED_IN_REVIEW"]
    assert order.refund_owed == TOTAL


def test_a_shipped_order_cannot_be_cancelled() -> None:
    order = paid()
    order.ship(Shipment("SF", "T1", NOW), actor="wms", at=NOW)
    with pytest.raises(ShippedOrderNotCancellable):
        order.cancel(reason="buyer", code="CANCELLED", actor="api", at=NOW)
    assert order.state is S.SHIPPED


def test_shipment_records_whether_it_met_the_promised_time() -> None:
    on_time = paid()
    on_time.ship(Shipment("SF", "T1", NOW + timedelta(hours=47)), actor="wms", at=NOW)
    assert on_time.shipment is not None and on_time.shipment.on_time is True
    late = paid()
    late.ship(Shipment("SF", "T2", NOW + timedelta(hours=49)), actor="wms", at=NOW)
    assert late.shipment is not None and late.shipment.on_time is False
    assert late.ship(Shipment("SF", "T2", NOW), actor="wms", at=NOW) == []  # a repeat
    with pytest.raises(InvalidTransition):
        late.ship(Shipment("SF", "OTHER", NOW), actor="wms", at=NOW)


def test_approving_outside_review_is_refused_and_approving_again_is_a_no_op() -> None:
    with pytest.raises(InvalidTransition):
        placed().approve(operator="ann", note="", at=NOW)
    order = paid(["INCOMPLETE_ADDRESS"])
    assert order.approve(operator="ann", note="ok", at=NOW) == [StateChanged(3)]
    assert order.approve(operator="ann", note="ok", at=NOW) == []
