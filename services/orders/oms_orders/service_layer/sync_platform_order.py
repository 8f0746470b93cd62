"""SyncPlatformOrder: reconcile a platform snapshot with the stored order.

A new order is written with its TCC transaction (TRYING) in one local
transaction, then the coordinator runs the Try: inventory reserves the stock.
A business refusal stores the order as REJECTED. An unknown outcome keeps the
order and its transaction as they are and answers UNAVAILABLE: the platform's
retried push (same request id) repeats the same Try, which inventory answers
as before, so a retry never creates a second order or transaction. A snapshot
that says the order moved on (paid, cancelled) then drives the same handlers
as the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from omslib.clock import Clock
from omslib.ids import new_id
from omslib.keyed_locks import KeyedLocks
from omslib.tcc import Coordinator, GlobalTransaction, TryOutcome, TryRefused
from omslib.telemetry.attributes import SPAN_ATTR_GID, SPAN_ATTR_ORDER_ID, SPAN_ATTR_PLATFORM
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters.request_log import RequestLog
from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.domain.errors import (
    ConcurrentModification,
    DuplicatePlatformOrder,
    InvalidRequest,
    InventoryUnavailable,
    OrderNotFound,
)
from oms_orders.domain.order import Order, platform_actor
from oms_orders.domain.snapshot import PlatformOrderSnapshot, validate
from oms_orders.domain.states import FINAL_STATES, OrderState
from oms_orders.domain.sync import ProcessedRequest, SyncOutcome
from oms_orders.domain.tcc import INVENTORY, INVENTORY_BRANCH, ORDER_PLACE, TransactionState
from oms_orders.domain.values import PlatformOrderStatus
from oms_orders.service_layer import commands as c
from oms_orders.service_layer.handlers import OrderHandlers
from oms_orders.service_layer.idempotency import earlier_request, fingerprint
from oms_orders.service_layer.order_changes import change_order
from oms_orders.service_layer.ports import ReservePayload

tracer = trace.get_tracer(__name__)

_ATTEMPTS = 3
#: How long after the payment deadline the recovery loop gives up on a Try nobody
#: finished (the deadline job normally expires the order first).
TRY_GRACE = timedelta(minutes=1)
_PAID_LIKE = frozenset(
    {
        PlatformOrderStatus.PAID,
        PlatformOrderStatus.SHIPPED,
        PlatformOrderStatus.DELIVERED,
        PlatformOrderStatus.COMPLETED,
    }
)
R = TypeVar("R")


@dataclass(frozen=True)
class SyncPlatformOrder:
    request_id: str
    snapshot: PlatformOrderSnapshot


@dataclass(frozen=True)
class SyncResult:
    order: Order
    outcome: SyncOutcome


class PlatformOrderSync:
    def __init__(
        self,
        uow: Callable[[], OrdersUnitOfWork],
        handlers: OrderHandlers,
        coordinator: Coordinator,
        clock: Clock,
        *,
        payment_window: timedelta,
        payment_windows: Mapping[str, timedelta] | None = None,
        locks: KeyedLocks | None = None,
    ) -> None:
        self._uow = uow
        self._handlers = handlers
        self._coordinator = coordinator
        self._clock = clock
        self._payment_window = payment_window
        self._payment_windows = dict(payment_windows or {})
        self._locks = locks or KeyedLocks()

    async def __call__(self, command: SyncPlatformOrder) -> SyncResult:
        if not command.request_id.strip():
            raise InvalidRequest("request_id must not be empty", metadata={"field": "request_id"})
        snapshot = command.snapshot
        if snapshot.platform is not None:
            trace.get_current_span().set_attribute(SPAN_ATTR_PLATFORM, snapshot.platform.value)
        key = f"{snapshot.platform}:{snapshot.platform_order_id}"
        # Snapshots of one order are applied one at a time (other orders proceed).
        async with self._locks.hold(key):
            # What identifies the push, not its every field: a replay of a stored raw push
            # may carry times the gateway filled in when it read it again.
            asked = fingerprint(
                "SyncPlatformOrder",
                platform=snapshot.platform,
                platform_order_id=snapshot.platform_order_id,
                status=snapshot.status,
            )
            settled = await _retrying(lambda: self._reconcile(command, asked))
            if isinstance(settled, SyncResult):
                newer = settled.outcome is SyncOutcome.ADVANCED
                return await self._advance(snapshot, settled, newer=newer)
            order, tx = settled
            if snapshot.status is PlatformOrderStatus.CANCELLED:
                # Cancelled before its stock was reserved: reserve nothing; the Cancel
                # also makes a late Try of this branch refused (no hanging).
                return await self._advance(
                    snapshot, SyncResult(order, SyncOutcome.CREATED), newer=True
                )
            # Once logged, the Try and its outcome are finished even if the caller goes away.
            created = await asyncio.shield(self._try(command.request_id, asked, order, tx))
            return await self._advance(snapshot, created, newer=True)

    async def _reconcile(
        self, command: SyncPlatformOrder, asked: str
    ) -> SyncResult | tuple[Order, GlobalTransaction]:
        """Answer from the stored order, or store a new one with its transaction to try."""
        snapshot = command.snapshot
        now = self._clock.now()
        async with self._uow() as uow:
            earlier = await earlier_request(uow, command.request_id, asked)
            if earlier is not None:  # answered before: DUPLICATE, moved forward if need be
                order = await uow.orders.get(earlier.order_id)
                if order is not None:
                    _tag_order(order)
                    return SyncResult(order, SyncOutcome.DUPLICATE)
            validate(snapshot)
            assert snapshot.platform is not None
            order = await uow.orders.get_by_platform_ref(
                snapshot.platform, snapshot.platform_order_id
            )
            if order is not None:
                _tag_order(order)
                tx = await uow.transactions.get(order.gid)
                if tx is not None and tx.state is TransactionState.TRYING:
                    # Its Try has not answered (crash, or inventory down): repeat it.
                    return order, tx
                outcome = SyncOutcome.STALE
                if snapshot.is_newer_than(order.platform_update_time, order.platform_version):
                    order.note_platform_update(snapshot, at=now)
                    await uow.orders.save(order)
                    outcome = SyncOutcome.ADVANCED
                await uow.requests.record(
                    ProcessedRequest(command.request_id, order.order_id, outcome, now, asked)
                )
                await uow.commit()
                return SyncResult(order, outcome)
            window = self._payment_windows.get(snapshot.platform.value, self._payment_window)
            order = Order.place(snapshot, gid=new_id(), now=now, payment_window=window)
            _tag_order(order)
            await uow.orders.add(order)
            tx = await self._coordinator.begin(
                uow.session,
                order.gid,
                kind=ORDER_PLACE,
                subject=order.name,
                branches=[(INVENTORY_BRANCH, INVENTORY)],
                try_deadline=order.payment_deadline + TRY_GRACE,
            )
            await uow.commit()
        return order, tx

    async def _try(
        self, request_id: str, asked: str, order: Order, tx: GlobalTransaction
    ) -> SyncResult:
        """The Try through the coordinator; its outcome recorded with the order."""
        if order.state is not OrderState.PENDING_PAYMENT:  # e.g. cancelled meanwhile
            return SyncResult(order, SyncOutcome.CREATED)
        payload = ReservePayload(
            order_id=order.order_id,
            lines=order.reserve_lines(),
            ship_to_province=order.shipping_address.province,
            expire_time=order.payment_deadline,
        )

        async def tried(
            session: AsyncSession, _: GlobalTransaction, results: dict[str, Any]
        ) -> Order:
            return await self._record(
                session,
                request_id,
                asked,
                order.order_id,
                SyncOutcome.CREATED,
                lambda o, now: o.record_reservation(results[INVENTORY_BRANCH], at=now),
            )

        async def refused(session: AsyncSession, _: GlobalTransaction, err: TryRefused) -> Order:
            return await self._record(
                session,
                request_id,
                asked,
                order.order_id,
                SyncOutcome.REJECTED,
                lambda o, now: o.refuse(err.reason, explain(err), at=now),
            )

        result = await self._coordinator.try_all(
            tx, {INVENTORY_BRANCH: payload}, on_tried=tried, on_refused=refused
        )
        if result.outcome == TryOutcome.UNKNOWN:
            raise InventoryUnavailable(
                f"inventory did not answer the stock reservation for "
                f"{order.platform.value} order {order.platform_order_id} "
                f"({result.error[:200]}); the order is kept, retry the push later",
                metadata={"gid": order.gid},
            )
        if result.outcome == TryOutcome.TRIED:
            return SyncResult(result.recorded, SyncOutcome.CREATED)
        if result.outcome == TryOutcome.REFUSED:
            return SyncResult(result.recorded, SyncOutcome.REJECTED)
        # LOST: another delivery or the recovery loop settled the Try first.
        current = await self._handlers.get(order.order_id)
        return SyncResult(current, SyncOutcome.CREATED)

    async def _record(
        self,
        session: AsyncSession,
        request_id: str,
        asked: str,
        order_id: str,
        outcome: SyncOutcome,
        change: Callable[[Order, datetime], list[Any]],
    ) -> Order:
        """Record the Try's outcome on the order, in the coordinator's local transaction."""
        now = self._clock.now()
        order = await change_order(
            session, order_id, lambda order: change(order, now), always_save=True
        )
        if order is None:
            raise OrderNotFound(f"order {order_id} not found", metadata={"order_id": order_id})
        await RequestLog(session).record(
            ProcessedRequest(request_id, order_id, outcome, now, asked)
        )
        return order

    async def _advance(
        self, snapshot: PlatformOrderSnapshot, result: SyncResult, *, newer: bool
    ) -> SyncResult:
        """Move the order forward to what the platform says (idempotent, forward only).

        A lagging order catches up even from a repeated snapshot, so a crash between
        recording the snapshot and moving the order cannot lose a payment.
        """
        order, status = result.order, snapshot.status
        moved = order
        actor = platform_actor(snapshot)
        payment = c.RecordPayment(
            order.order_id,
            amount=order.total,  # the platform collected it; its total is the order's
            reference=platform_payment_reference(order),
            pay_time=snapshot.pay_time,
            actor=actor,
        )
        if status in _PAID_LIKE and order.state is OrderState.PENDING_PAYMENT:
            moved = await self._handlers.pay(payment)
        elif status in _PAID_LIKE and order.state in _ENDED and order.payment is None:
            moved = await self._handlers.record_late_payment(payment)
        elif (
            status is PlatformOrderStatus.CANCELLED
            and order.state not in FINAL_STATES
            and (order.state is OrderState.PENDING_PAYMENT or newer)
            and order.state not in _SHIPPED
        ):
            moved = await self._handlers.cancel(
                c.CancelOrder(
                    order.order_id,
                    reason="cancelled on the platform",
                    code="PLATFORM_CANCELLED",
                    actor=actor,
                )
            )
        outcome = result.outcome
        if moved is not order and outcome is SyncOutcome.STALE:
            outcome = SyncOutcome.ADVANCED
        return SyncResult(moved, outcome)


_SHIPPED = frozenset({OrderState.SHIPPED, OrderState.DELIVERED, OrderState.COMPLETED})
_ENDED = frozenset({OrderState.CANCELLED, OrderState.REJECTED})


def platform_payment_reference(order: Order) -> str:
    """A marketplace collects the money itself: its order is the payment's reference."""
    return f"{order.platform.value}:{order.platform_order_id}"


def explain(refusal: TryRefused) -> str:
    """The rejection in words for the merchant, naming the SKU when inventory said which."""
    sku = refusal.metadata.get("sku")
    if sku and refusal.reason == "INSUFFICIENT_STOCK":
        return f"not enough stock for SKU {sku}"
    if sku and refusal.reason == "UNKNOWN_SKU":
        return f"unknown SKU {sku}"
    return f"inventory refused the reservation: {refusal.message}"


def _tag_order(order: Order) -> None:
    span = trace.get_current_span()
    span.set_attribute(SPAN_ATTR_ORDER_ID, order.order_id)
    span.set_attribute(SPAN_ATTR_PLATFORM, order.platform.value)
    span.set_attribute(SPAN_ATTR_GID, order.gid)


async def _retrying(step: Callable[[], Awaitable[R]]) -> R:
    """Run ``step`` again when a concurrent writer got there first (it re-reads)."""
    for attempt in range(_ATTEMPTS):
        try:
            return await step()
        except (DuplicatePlatformOrder, ConcurrentModification):
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
