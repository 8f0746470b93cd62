"""A model of the order life cycle, driven at random against the running services.

Orders and inventory run as real gRPC servers (port 0, in a thread; see in_process.py)
on SQLite or PostgreSQL. Hypothesis draws sequences of every operation: place
(SyncPlatformOrder), pay (RecordPayment with the order total and a reference, or a
wrong amount, or a second reference), cancel, reject, approve, ship (RecordShipment
with carrier and tracking), expire (the payment deadline passes: the services' shared
clock jumps past it), and replays of earlier requests with the same request_id, in
any order. After every step:

- each order is in the state the model expects (a legal move succeeds; an illegal one
  answers FAILED_PRECONDITION and changes nothing; a replayed request changes nothing),
  and shows what it recorded: the payment reference, the refund owed once a paid order
  is cancelled or rejected before shipment, the shipment's tracking number;
- the stock books balance: reserved == units of unpaid live (PENDING_PAYMENT) orders,
  and on hand == initial - units of orders that still hold deducted stock (paid, and
  not cancelled or rejected before shipment; shipped goods stay deducted).

Each example uses a SKU of its own, so examples share the running services.
OMS_MODEL_EXAMPLES and OMS_MODEL_STEPS make a longer run by hand.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
import grpc.aio
import pytest
from google.protobuf.message import Message
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from oms.inventory.v1 import inventory_service_pb2, inventory_service_pb2_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.type.v1 import money_pb2
from omslib.ids import new_id

sys.path.insert(0, str(os.path.dirname(__file__)))
from in_process import ServicesInThread
from tcc_support import reason_of, set_stock, snapshot, stamp

OP = order_pb2
OS = orders_service_pb2
STOCK = 8
UNIT_PRICE = 1999
# Totals above this go to review after payment: one unit is approved at once, two or
# more wait for an operator (ApproveOrder / RejectOrder).
AUTO_APPROVE_MAX = 3000
PAYMENT_DEADLINE = timedelta(minutes=30)

# What the run exercised, printed at its end.
SENT: Counter[str] = Counter()

PENDING = OP.ORDER_STATE_PENDING_PAYMENT
PAID = OP.ORDER_STATE_PAID
IN_REVIEW = OP.ORDER_STATE_IN_REVIEW
ALLOCATED = OP.ORDER_STATE_ALLOCATED
SHIPPED = OP.ORDER_STATE_SHIPPED
CANCELLED = OP.ORDER_STATE_CANCELLED
REJECTED = OP.ORDER_STATE_REJECTED
PAID_UNSHIPPED = {IN_REVIEW, ALLOCATED}
HOLDS_DEDUCTED = {PAID, IN_REVIEW, ALLOCATED, SHIPPED}
ENDED = {CANCELLED, REJECTED}
# Asked again after their move was made, these may answer "done" or FAILED_PRECONDITION.
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED}


def state_name(state: int) -> str:
    return str(OP.OrderState.Name(state)).removeprefix("ORDER_STATE_")


@dataclass
class ModelOrder:
    name: str
    units: int
    total: int
    state: int
    payment_reference: str = ""
    refund_owed: int = 0  # a paid order ended before shipment owes the buyer its total
    tracking_number: str = ""

    def facts(self) -> str:
        """What the order must show: its state and what it recorded."""
        return (
            f"{state_name(self.state)} paid-ref={self.payment_reference or '-'} "
            f"refund-owed={self.refund_owed} tracking={self.tracking_number or '-'}"
        )


@dataclass
class Sent:
    """One mutating request as sent, kept for replays."""

    method: str
    request: Message
    code: grpc.StatusCode
    changed: str  # the order it was about


@dataclass
class Answer:
    code: grpc.StatusCode
    reason: str = ""
    message: str = ""
    order: Any = field(default=None, repr=False)


@dataclass
class Books:
    orders: dict[str, ModelOrder] = field(default_factory=dict)

    def reserved(self) -> int:
        return sum(o.units for o in self.orders.values() if o.state == PENDING)

    def deducted(self) -> int:
        return sum(o.units for o in self.orders.values() if o.state in HOLDS_DEDUCTED)


def facts_of(order: Any) -> str:
    """An order's facts as the service shows them (see ModelOrder.facts)."""
    return ModelOrder(
        order.name,
        0,
        0,
        order.state,
        payment_reference=order.payment.reference,
        refund_owed=order.refund_owed.minor_units,
        tracking_number=order.shipment.tracking_number,
    ).facts()


def with_request_id(request: Message) -> Message:
    """Set request_id where the request has one (ApproveOrder and RejectOrder may not)."""
    if "request_id" in request.DESCRIPTOR.fields_by_name:
        request.request_id = f"model:{new_id()}"  # type: ignore[attr-defined]
    return request


def has_request_id(request: Message) -> bool:
    return bool(getattr(request, "request_id", ""))


class OrderLifeCycle(RuleBasedStateMachine):
    """Bound to running services by ``machine_for`` below."""

    services: ServicesInThread
    orders: orders_service_pb2_grpc.OrdersServiceStub
    inventory: inventory_service_pb2_grpc.InventoryServiceStub

    placed = Bundle("placed")

    def __init__(self) -> None:
        super().__init__()
        self.books = Books()
        self.sent: list[Sent] = []
        self.sku = ""
        self.serial = 0

    # --- set-up --------------------------------------------------------------------

    @initialize()
    def put_stock(self) -> None:
        # Each example starts at real time: its deadline jumps add up to hours at most,
        # while timestamps in requests may be at most a day ahead of the real clock.
        # (Orders of earlier examples may then wait longer: they are not looked at again.)
        self.services.clock.reset()
        self.sku = f"SM-{new_id()}"

        async def put() -> None:
            async with grpc.aio.insecure_channel(self.services.inventory_addr) as channel:
                stub = inventory_service_pb2_grpc.InventoryServiceStub(channel)
                await set_stock(stub, self.sku, STOCK)

        self.services.run(put())

    # --- operations ----------------------------------------------------------------

    @rule(target=placed, units=st.integers(1, 3))
    def place(self, units: int) -> str:
        self.serial += 1
        snap = snapshot(f"{self.sku}-{self.serial}", self.sku, units, now=self.services.clock.now())
        request = OS.SyncPlatformOrderRequest(request_id=f"model:{new_id()}", snapshot=snap)
        answer = self.call("SyncPlatformOrder", request, "")
        assert answer.code is grpc.StatusCode.OK, answer
        order = answer.order
        fits = units <= STOCK - self.books.reserved() - self.books.deducted()
        expected = PENDING if fits else REJECTED
        assert order.state == expected, (
            f"placing {units} with {STOCK - self.books.reserved() - self.books.deducted()} "
            f"available: expected {state_name(expected)}, got {state_name(order.state)}"
        )
        self.books.orders[order.name] = ModelOrder(
            order.name, units, UNIT_PRICE * units, order.state
        )
        return str(order.name)

    @rule(name=placed, second_reference=st.booleans())
    def pay(self, name: str, second_reference: bool) -> None:
        o = self.books.orders[name]
        reference = o.payment_reference or f"pay-{new_id()}"
        if second_reference and o.payment_reference:
            reference = f"pay-{new_id()}"
        request = with_request_id(
            OS.RecordPaymentRequest(
                name=name,
                amount=money_pb2.Money(minor_units=o.total, currency_code="CNY"),
                pay_time=stamp(self.services.clock.now()),
                payment_reference=reference,
            )
        )
        if o.state == PENDING:
            after = ALLOCATED if o.total <= AUTO_APPROVE_MAX else IN_REVIEW
            self.expect_move("RecordPayment", request, o, after)
            o.payment_reference = reference
        elif o.state in HOLDS_DEDUCTED and reference == o.payment_reference:
            self.expect_done("RecordPayment", request, o)  # the same payment again
        elif reference == o.payment_reference:  # the payment of an order cancelled since
            self.expect_done("RecordPayment", request, o, or_refused=True)
        else:  # a second payment, or one for an ended order
            self.expect_refused("RecordPayment", request, o)

    @rule(name=placed)
    def pay_a_wrong_amount(self, name: str) -> None:
        o = self.books.orders[name]
        request = with_request_id(
            OS.RecordPaymentRequest(
                name=name,
                amount=money_pb2.Money(minor_units=o.total + 1, currency_code="CNY"),
                pay_time=stamp(self.services.clock.now()),
                payment_reference=o.payment_reference or f"pay-{new_id()}",
            )
        )
        self.expect_refused("RecordPayment", request, o)

    @rule(name=placed)
    def cancel(self, name: str) -> None:
        o = self.books.orders[name]
        request = with_request_id(OS.CancelOrderRequest(name=name, reason="buyer asked"))
        if o.state == PENDING or o.state in PAID_UNSHIPPED:
            self.owe_refund_if_paid(o)
            self.expect_move("CancelOrder", request, o, CANCELLED)
        elif o.state in ENDED:
            self.expect_done("CancelOrder", request, o, or_refused=True)
        else:  # shipped: goes through a return instead
            self.expect_refused("CancelOrder", request, o)

    @rule(name=placed)
    def reject(self, name: str) -> None:
        o = self.books.orders[name]
        request = with_request_id(
            OS.RejectOrderRequest(name=name, reason="fraud check", operator="model")
        )
        if o.state in (PENDING, IN_REVIEW):
            self.owe_refund_if_paid(o)
            self.expect_move("RejectOrder", request, o, REJECTED)
        elif o.state in ENDED:
            self.expect_done("RejectOrder", request, o, or_refused=True)
        else:
            self.expect_refused("RejectOrder", request, o)

    @rule(name=placed)
    def approve(self, name: str) -> None:
        o = self.books.orders[name]
        request = with_request_id(
            OS.ApproveOrderRequest(name=name, note="looks fine", operator="model")
        )
        if o.state == IN_REVIEW:
            self.expect_move("ApproveOrder", request, o, ALLOCATED)
        else:
            self.expect_done("ApproveOrder", request, o, or_refused=True)

    @rule(name=placed)
    def ship(self, name: str) -> None:
        o = self.books.orders[name]
        request = with_request_id(
            OS.RecordShipmentRequest(
                name=name,
                shipment=OP.Shipment(
                    carrier="SF",
                    tracking_number=f"SF{new_id()}",
                    ship_time=stamp(self.services.clock.now()),
                ),
            )
        )
        if o.state == ALLOCATED:
            self.expect_move("RecordShipment", request, o, SHIPPED)
            o.tracking_number = request.shipment.tracking_number  # type: ignore[attr-defined]
        else:
            self.expect_done("RecordShipment", request, o, or_refused=True)

    @rule()
    def payment_deadline_passes(self) -> None:
        """Every unpaid order expires: the deadline job cancels it."""
        self.services.clock.advance(PAYMENT_DEADLINE + timedelta(minutes=1))
        pending = [o for o in self.books.orders.values() if o.state == PENDING]
        for o in pending:
            o.state = CANCELLED
        deadline = time.monotonic() + 20
        while True:
            states = {o.name: self.get(o.name).state for o in pending}
            if all(s == CANCELLED for s in states.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        late = {n: state_name(s) for n, s in states.items() if s != CANCELLED}
        assert not late, f"unpaid orders not expired after the payment deadline: {late}"

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """An earlier request again, same request_id and payload: it changes nothing."""
        replayable = [s for s in self.sent if has_request_id(s.request)]
        if not replayable:
            return
        sent = data.draw(st.sampled_from(replayable))
        before = self.snapshot_states()
        answer = self.call(sent.method, sent.request, sent.changed)
        if sent.code is grpc.StatusCode.OK:
            assert answer.code is grpc.StatusCode.OK, (
                f"{sent.method} replayed with its request_id: {answer.code.name} "
                f"{answer.reason} (first answer OK)"
            )
        assert self.snapshot_states() == before, f"replayed {sent.method} changed orders"

    @rule(data=st.data())
    def reuse_request_id(self, data: st.DataObject) -> None:
        """An earlier request_id with another payload is refused and changes nothing."""
        reusable = [
            s
            for s in self.sent
            if has_request_id(s.request)
            and s.code is grpc.StatusCode.OK
            and s.method in ("CancelOrder", "RecordShipment")
        ]
        if not reusable:
            return
        sent = data.draw(st.sampled_from(reusable))
        other = type(sent.request)()
        other.CopyFrom(sent.request)
        if sent.method == "CancelOrder":
            other.reason = f"another reason {new_id()}"  # type: ignore[attr-defined]
        else:
            other.shipment.tracking_number = f"SF{new_id()}"  # type: ignore[attr-defined]
        before = self.snapshot_states()
        answer = self.call(sent.method, other, sent.changed, record=False)
        assert (answer.code, answer.reason) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "REQUEST_ID_REUSED",
        ), f"{sent.method} with a reused request_id: {answer.code.name} {answer.reason}"
        assert self.snapshot_states() == before

    def teardown(self) -> None:
        SENT.update(sent.method for sent in self.sent)
        SENT["examples"] += 1
        SENT["orders"] += len(self.books.orders)

    # --- invariants ----------------------------------------------------------------

    @invariant()
    def orders_are_where_the_model_says(self) -> None:
        if not self.books.orders:
            return
        actual = self.snapshot_states()
        expected = {n: o.facts() for n, o in self.books.orders.items()}
        assert actual == expected, "orders differ from the model: " + ", ".join(
            f"{n}: {expected[n]} expected, {actual[n]} actual"
            for n in expected
            if actual[n] != expected[n]
        )

    @invariant()
    def stock_books_balance(self) -> None:
        if not self.sku:
            return
        want = (self.books.reserved(), STOCK - self.books.deducted())
        # Confirm and Cancel may finish just after the call answered: allow a moment.
        deadline = time.monotonic() + 10
        while (got := self.stock_levels()) != want and time.monotonic() < deadline:
            time.sleep(0.1)
        assert got == want, (
            f"stock of {self.sku}: (reserved, on hand) = {got}, the model says {want} "
            f"(reserved = units of unpaid orders; on hand = {STOCK} - units deducted for "
            f"orders still holding them); orders: {self.describe()}"
        )

    # --- helpers -------------------------------------------------------------------

    @staticmethod
    def owe_refund_if_paid(o: ModelOrder) -> None:
        if o.state in PAID_UNSHIPPED:
            o.refund_owed = o.total

    def expect_move(self, method: str, request: Message, o: ModelOrder, after: int) -> None:
        answer = self.call(method, request, o.name)
        assert answer.code is grpc.StatusCode.OK, (
            f"{method} on a {state_name(o.state)} order: {answer.code.name} {answer.reason}"
        )
        o.state = after

    def expect_done(
        self, method: str, request: Message, o: ModelOrder, *, or_refused: bool = False
    ) -> None:
        before = self.snapshot_states()
        answer = self.call(method, request, o.name)
        allowed = {grpc.StatusCode.OK} | (
            {grpc.StatusCode.FAILED_PRECONDITION} if or_refused else set()
        )
        assert answer.code in allowed, (
            f"{method} on a {state_name(o.state)} order: {answer.code.name} {answer.reason}"
        )
        assert self.snapshot_states() == before, f"{method} on a {state_name(o.state)} order"

    def expect_refused(self, method: str, request: Message, o: ModelOrder) -> None:
        before = self.snapshot_states()
        answer = self.call(method, request, o.name)
        assert answer.code is grpc.StatusCode.FAILED_PRECONDITION, (
            f"{method} on a {state_name(o.state)} order should be refused: "
            f"{answer.code.name} {answer.reason}"
        )
        assert self.snapshot_states() == before, f"refused {method} changed orders"

    def call(self, method: str, request: Message, name: str, *, record: bool = True) -> Answer:
        """Send ``request``; UNAVAILABLE and ABORTED (transient) are sent again as is."""
        for attempt in range(50):
            try:
                reply = getattr(self.orders, method)(request, timeout=30)
            except grpc.RpcError as err:
                code = err.code()  # type: ignore[attr-defined]
                if code in RETRYABLE and attempt < 49:
                    time.sleep(0.1)
                    continue
                answer = Answer(code, reason_of(err), err.details())  # type: ignore[arg-type, attr-defined]
                break
            else:
                answer = Answer(grpc.StatusCode.OK, order=reply.order)
                break
        if record and method != "SyncPlatformOrder":
            self.sent.append(Sent(method, request, answer.code, name))
        return answer

    def get(self, name: str) -> Any:
        return self.orders.GetOrder(OS.GetOrderRequest(name=name), timeout=30).order

    def snapshot_states(self) -> dict[str, str]:
        """Each order's facts (as ModelOrder.facts), once no automatic step (approval
        after payment) is pending."""
        deadline = time.monotonic() + 10
        while True:
            orders = {n: self.get(n) for n in self.books.orders}
            if all(o.state != PAID for o in orders.values()) or time.monotonic() > deadline:
                return {n: facts_of(o) for n, o in orders.items()}
            time.sleep(0.05)

    def stock_levels(self) -> tuple[int, int]:
        reply = self.inventory.GetAvailability(
            inventory_service_pb2.GetAvailabilityRequest(skus=[self.sku]), timeout=30
        )
        a = reply.availabilities[0]
        return int(a.reserved), int(a.on_hand)

    def describe(self) -> str:
        return ", ".join(
            f"{o.name} x{o.units} {state_name(o.state)}" for o in self.books.orders.values()
        )


@contextmanager
def machine_for(services: ServicesInThread) -> Iterator[type[OrderLifeCycle]]:
    with (
        grpc.insecure_channel(services.orders_addr) as oc,
        grpc.insecure_channel(services.inventory_addr) as ic,
    ):
        bound = type(
            "OrderLifeCycleHere",
            (OrderLifeCycle,),
            {
                "services": services,
                "orders": orders_service_pb2_grpc.OrdersServiceStub(oc),
                "inventory": inventory_service_pb2_grpc.InventoryServiceStub(ic),
            },
        )
        yield bound


@pytest.fixture
def services(make_database_url: Callable[[str], str], redis_url: str) -> Iterator[ServicesInThread]:
    running = ServicesInThread(
        make_database_url,
        redis_url,
        orders_env={
            "OMS_ORDERS_AUTO_APPROVE_MAX_MINOR_UNITS": AUTO_APPROVE_MAX,
            "OMS_ORDERS_PAYMENT_DEADLINE_MINUTES": int(PAYMENT_DEADLINE.total_seconds() // 60),
            "OMS_ORDERS_DEADLINE_INTERVAL_SECONDS": 0.2,
            "OMS_ORDERS_RECOVERY_INTERVAL_SECONDS": 0.5,
            "OMS_ORDERS_TCC_RETRY_BASE_SECONDS": 0.2,
            "OMS_ORDERS_INVENTORY_TIMEOUT_SECONDS": 5,
        },
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_every_way_an_order_ends_settles_its_stock(services: ServicesInThread) -> None:
    with machine_for(services) as machine:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=int(os.environ.get("OMS_MODEL_EXAMPLES", "30")),
                stateful_step_count=int(os.environ.get("OMS_MODEL_STEPS", "30")),
                deadline=None,
                database=None,
                # Shrinking replays whole sequences against the services: opt in.
                phases=[Phase.explicit, Phase.reuse, Phase.generate]
                + ([Phase.shrink] if os.environ.get("OMS_MODEL_SHRINK") else []),
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    print(f"\nmodel run: {dict(SENT)}")
