"""The Order aggregate: one platform order, its state and the history of its moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from omslib.ids import new_id

from oms_orders.domain.errors import (
    InvalidTransition,
    PaymentAfterCancellation,
    PaymentAmountMismatch,
    PaymentConflict,
    ShippedOrderNotCancellable,
)
from oms_orders.domain.events import (
    OrderAnnounced,
    OrderEvent,
    RefundOwed,
    StateChanged,
    StockEffect,
    StockSettlement,
)
from oms_orders.domain.snapshot import PlatformOrderSnapshot
from oms_orders.domain.states import OrderState, check_move
from oms_orders.domain.values import (
    Address,
    Buyer,
    Money,
    OrderLine,
    Platform,
    StockAllocation,
)

SYSTEM_ACTOR = "system"
PAYMENT_TIMEOUT = "PAYMENT_TIMEOUT"
PAYMENT_AFTER_STOCK_RELEASE = "PAYMENT_AFTER_STOCK_RELEASE"
PAYMENT_AFTER_CANCELLATION = "PAYMENT_AFTER_CANCELLATION"
REJECTED_IN_REVIEW = "REJECTED_IN_REVIEW"
REJECTED_BY_OPERATOR = "REJECTED_BY_OPERATOR"

_SHIPPED_OR_LATER = frozenset({OrderState.SHIPPED, OrderState.DELIVERED, OrderState.COMPLETED})
_APPROVED_OR_LATER = frozenset({OrderState.ALLOCATED, *_SHIPPED_OR_LATER})


@dataclass(frozen=True)
class Payment:
    """What the buyer paid, and the payment's reference at its provider (refunds need it)."""

    amount: Money
    reference: str
    time: datetime


@dataclass(frozen=True)
class Shipment:
    """The parcel: carrier, tracking number, when it left, and whether that was on time."""

    carrier: str
    tracking_number: str
    ship_time: datetime
    on_time: bool | None = None


@dataclass(frozen=True)
class StateTransition:
    """One recorded move; ``from_state`` is None for the first entry."""

    from_state: OrderState | None
    to_state: OrderState
    time: datetime
    reason: str
    actor: str


@dataclass
class Order:
    order_id: str
    platform: Platform
    platform_order_id: str
    state: OrderState
    lines: list[OrderLine]
    total: Money
    buyer: Buyer
    shipping_address: Address
    platform_create_time: datetime | None
    platform_update_time: datetime | None
    platform_version: int
    platform_status: str
    payment_deadline: datetime
    gid: str
    create_time: datetime
    update_time: datetime
    allocations: list[StockAllocation] = field(default_factory=list)
    state_reason: str = ""
    reason_codes: list[str] = field(default_factory=list)
    history: list[StateTransition] = field(default_factory=list)
    pay_time: datetime | None = None
    payment: Payment | None = None
    promised_ship_time: datetime | None = None
    shipment: Shipment | None = None
    #: What the buyer is owed after a paid order ended before shipment.
    refund_owed: Money | None = None
    #: Refunded so far, and held by refunds in flight (minor units of the payment's currency).
    #: Changed only by the refund participant's conditional updates, never by a save.
    refunded_minor_units: int = 0
    refund_frozen_minor_units: int = 0
    #: Optimistic-concurrency counter, bumped by the repository on every save.
    version: int = 0

    @property
    def name(self) -> str:
        return f"orders/{self.order_id}"

    @classmethod
    def place(
        cls,
        snapshot: PlatformOrderSnapshot,
        *,
        gid: str,
        now: datetime,
        payment_window: timedelta,
    ) -> Order:
        """A new order from a validated CREATED snapshot, waiting for payment."""
        assert snapshot.platform is not None and snapshot.total is not None, "validate() first"
        placed_at = snapshot.create_time or now
        order = cls(
            order_id=new_id(),
            platform=snapshot.platform,
            platform_order_id=snapshot.platform_order_id,
            state=OrderState.PENDING_PAYMENT,
            lines=list(snapshot.lines),
            total=snapshot.total,
            buyer=snapshot.buyer,
            shipping_address=snapshot.shipping_address,
            platform_create_time=snapshot.create_time,
            platform_update_time=snapshot.update_time,
            platform_version=snapshot.version,
            platform_status=snapshot.platform_status,
            payment_deadline=placed_at + payment_window,
            gid=gid,
            create_time=now,
            update_time=now,
        )
        check_move(None, OrderState.PENDING_PAYMENT)
        order.history.append(
            StateTransition(
                None, OrderState.PENDING_PAYMENT, now, "platform snapshot", platform_actor(snapshot)
            )
        )
        return order

    # ------------------------------------------------------------------ moves
    @property
    def announced(self) -> bool:
        """Whether consumers have heard of the order: its reservation outcome is recorded."""
        return bool(self.allocations) or self.state is not OrderState.PENDING_PAYMENT

    @property
    def refundable(self) -> Money | None:
        """paid - refunded - frozen; None until paid."""
        if self.payment is None:
            return None
        paid = self.payment.amount
        left = paid.minor_units - self.refunded_minor_units - self.refund_frozen_minor_units
        return Money(left, paid.currency)

    @property
    def holds_deducted_stock(self) -> bool:
        """Paid, not shipped, not ended: inventory deducted units the warehouse still has."""
        return self.state in (OrderState.PAID, OrderState.IN_REVIEW, OrderState.ALLOCATED)

    def record_reservation(
        self, allocations: list[StockAllocation], *, at: datetime
    ) -> list[OrderEvent]:
        """Inventory reserved the stock (the Try succeeded): the order waits for payment."""
        was_announced = self.announced
        self.allocations = list(allocations)
        self.update_time = at
        return [] if was_announced else [OrderAnnounced()]

    def refuse(self, reason_code: str, explanation: str, *, at: datetime) -> list[OrderEvent]:
        """Inventory refused the reservation (e.g. not enough stock): nothing is held."""
        events = self._move(OrderState.REJECTED, at=at, reason=explanation, actor=SYSTEM_ACTOR)
        self.state_reason = explanation
        self.reason_codes = [reason_code]
        self.allocations = []
        return events

    def pay(self, payment: Payment, *, at: datetime, actor: str) -> list[OrderEvent]:
        """Record the payment; the reservation is to be deducted (TCC Confirm).

        The amount must be the order's total. A repeat of the same payment is a no-op;
        another payment of a paid order is a conflict, of an ended one an exception.
        """
        if self.payment is not None:
            if payment.reference == self.payment.reference:
                self._check_amount(payment)
                return []  # the same payment again
            raise PaymentConflict(
                f"order {self.order_id} is already paid with another payment reference",
                metadata={"order_id": self.order_id},
            )
        if self.state in (OrderState.CANCELLED, OrderState.REJECTED):
            raise PaymentAfterCancellation(
                f"order {self.order_id} is {self.state.value}; the payment must be refunded",
                metadata={"current": self.state.value, "requested": OrderState.PAID.value},
            )
        self._check_amount(payment)
        events = self._move(OrderState.PAID, at=at, reason="payment recorded", actor=actor)
        self.payment = payment
        self.pay_time = payment.time
        return [*events, StockSettlement(StockEffect.DEDUCT)]

    def _check_amount(self, payment: Payment) -> None:
        if payment.amount != self.total:
            raise PaymentAmountMismatch(
                f"payment of {payment.amount.minor_units} {payment.amount.currency} does not "
                f"match the order total of {self.total.minor_units} {self.total.currency}",
                metadata={
                    "paid": f"{payment.amount.minor_units} {payment.amount.currency}",
                    "total": f"{self.total.minor_units} {self.total.currency}",
                },
            )

    def paid_after_it_ended(self, payment: Payment, *, at: datetime) -> list[OrderEvent]:
        """The platform says a cancelled or rejected order was paid: the money is owed back.

        Nothing is deducted (the order holds no stock); the payment and the refund
        owed are recorded so a person (or the refund flow) returns it. A repeat is a
        no-op.
        """
        if self.state not in (OrderState.CANCELLED, OrderState.REJECTED):
            raise InvalidTransition(
                f"order {self.order_id} is {self.state.value}, not ended",
                metadata={"current": self.state.value, "requested": OrderState.PAID.value},
            )
        if self.payment is not None:
            return []
        self.payment = payment
        self.pay_time = payment.time
        self.refund_owed = payment.amount
        self.reason_codes = sorted({*self.reason_codes, PAYMENT_AFTER_CANCELLATION})
        self.update_time = at
        return [RefundOwed(payment.amount)]

    def review(
        self, reasons: list[str], *, at: datetime, ship_within: timedelta
    ) -> list[OrderEvent]:
        """After the stock is deducted: hold for review with ``reasons``, or approve at once.

        The promised ship time starts from the payment.
        """
        if self.state is not OrderState.PAID:
            return []  # reviewed already (a repeated confirmation)
        paid_at = self.pay_time or at
        self.promised_ship_time = paid_at + ship_within
        if reasons:
            events = self._move(
                OrderState.IN_REVIEW, at=at, reason=", ".join(reasons), actor=SYSTEM_ACTOR
            )
            self.reason_codes = list(reasons)
            self.state_reason = "needs review: " + ", ".join(reasons)
            return events
        return self._move(
            OrderState.ALLOCATED, at=at, reason="approved by rules", actor=SYSTEM_ACTOR
        )

    def stock_lost_after_payment(self, why: str, *, at: datetime) -> None:
        """Paid, but inventory released the stock first: never silent, a person decides."""
        self.reason_codes = sorted({*self.reason_codes, PAYMENT_AFTER_STOCK_RELEASE})
        self.state_reason = f"paid but stock not deducted: {why}"
        self.update_time = at

    def approve(self, *, operator: str, note: str, at: datetime) -> list[OrderEvent]:
        """A reviewer approves: the order is allocated. Approving it again is a no-op."""
        if self.state in _APPROVED_OR_LATER and self.state is not OrderState.IN_REVIEW:
            return []
        events = self._move(OrderState.ALLOCATED, at=at, reason=note or "approved", actor=operator)
        # The review's reasons stay in reason_codes and the history; the words say who decided.
        self.state_reason = f"approved in review by {operator}" + (f": {note}" if note else "")
        return events

    def reject(self, *, reason: str, operator: str, at: datetime) -> list[OrderEvent]:
        """An operator rejects the order; whatever stock it holds is settled."""
        if self.state is OrderState.REJECTED:
            return []
        return self._end(
            OrderState.REJECTED,
            reason=reason or "rejected",
            code=REJECTED_IN_REVIEW if self.payment else REJECTED_BY_OPERATOR,
            actor=operator,
            at=at,
        )

    def cancel(self, *, reason: str, code: str, actor: str, at: datetime) -> list[OrderEvent]:
        """Cancel before shipment; after shipment it is a return, not a cancellation."""
        if self.state is OrderState.CANCELLED:
            return []
        if self.state in _SHIPPED_OR_LATER:
            raise ShippedOrderNotCancellable(
                f"order {self.order_id} is {self.state.value}: the goods have left, "
                "so it cannot be cancelled; request a return instead",
                metadata={"current": self.state.value, "requested": OrderState.CANCELLED.value},
            )
        return self._end(OrderState.CANCELLED, reason=reason, code=code, actor=actor, at=at)

    def expire(self, *, at: datetime) -> list[OrderEvent]:
        """The payment deadline passed unpaid: cancelled, the reservation released."""
        if self.state is not OrderState.PENDING_PAYMENT:
            return []
        return self._end(
            OrderState.CANCELLED,
            reason="payment deadline passed",
            code=PAYMENT_TIMEOUT,
            actor=SYSTEM_ACTOR,
            at=at,
        )

    def ship(self, shipment: Shipment, *, actor: str, at: datetime) -> list[OrderEvent]:
        """The parcel left; whether it met the promised ship time is recorded with it."""
        if self.shipment is not None and self.state in _SHIPPED_OR_LATER:
            if (shipment.carrier, shipment.tracking_number) == (
                self.shipment.carrier,
                self.shipment.tracking_number,
            ):
                return []
            raise InvalidTransition(
                f"order {self.order_id} already shipped with {self.shipment.carrier} "
                f"{self.shipment.tracking_number}",
                metadata={"current": self.state.value, "requested": OrderState.SHIPPED.value},
            )
        events = self._move(OrderState.SHIPPED, at=at, reason="shipment recorded", actor=actor)
        on_time = None
        if self.promised_ship_time is not None:
            on_time = shipment.ship_time <= self.promised_ship_time
        self.shipment = Shipment(
            shipment.carrier, shipment.tracking_number, shipment.ship_time, on_time
        )
        return events

    def deliver(self, *, actor: str, at: datetime) -> list[OrderEvent]:
        if self.state in (OrderState.DELIVERED, OrderState.COMPLETED):
            return []
        return self._move(OrderState.DELIVERED, at=at, reason="delivered", actor=actor)

    def complete(self, *, actor: str, at: datetime) -> list[OrderEvent]:
        if self.state is OrderState.COMPLETED:
            return []
        return self._move(OrderState.COMPLETED, at=at, reason="completed", actor=actor)

    def _end(
        self, state: OrderState, *, reason: str, code: str, actor: str, at: datetime
    ) -> list[OrderEvent]:
        """Cancel or reject: the reservation is released, or deducted units restocked."""
        restock = self.holds_deducted_stock
        events = self._move(state, at=at, reason=reason, actor=actor)
        self.state_reason = reason
        self.reason_codes = [code]
        if restock:
            assert self.payment is not None
            self.refund_owed = self.payment.amount
            return [
                *events,
                StockSettlement(StockEffect.RESTOCK),
                RefundOwed(self.payment.amount),
            ]
        return [*events, StockSettlement(StockEffect.RELEASE)]

    def _move(
        self, state: OrderState, *, at: datetime, reason: str, actor: str
    ) -> list[OrderEvent]:
        """Apply one move of the transition table and record it in the history."""
        was_announced = self.announced
        check_move(self.state, state)
        self.history.append(StateTransition(self.state, state, at, reason, actor))
        self.state = state
        self.update_time = at
        if not was_announced:
            return [OrderAnnounced()]  # announces the whole history at once
        return [StateChanged(len(self.history) - 1)]

    def note_platform_update(self, snapshot: PlatformOrderSnapshot, *, at: datetime) -> None:
        """Remember a newer platform snapshot's time, version and raw status."""
        self.platform_update_time = snapshot.update_time
        self.platform_version = snapshot.version
        self.platform_status = snapshot.platform_status
        self.update_time = at

    def reserve_lines(self) -> list[tuple[str, int]]:
        """(SKU, quantity) to reserve, one entry per SKU in first-seen order."""
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.sku] = totals.get(line.sku, 0) + line.quantity
        return list(totals.items())


def platform_actor(snapshot: PlatformOrderSnapshot) -> str:
    platform = snapshot.platform.value if snapshot.platform else "unknown"
    return f"platform:{platform}"
