"""SyncPlatformOrder: reconcile a platform snapshot with the stored order.

A new CREATED order is written with its TCC transaction before the Try phase,
then inventory is asked to reserve the stock. A business refusal stores the
order as REJECTED; an unknown outcome cancels the branch, keeps no order and
answers UNAVAILABLE so the gateway retries later with the same request id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from omslib.clock import Clock
from omslib.ids import new_id
from omslib.telemetry.attributes import (
    SPAN_ATTR_BRANCH,
    SPAN_ATTR_GID,
    SPAN_ATTR_ORDER_ID,
    SPAN_ATTR_PLATFORM,
)
from opentelemetry import trace

from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.domain.errors import (
    ConcurrentModification,
    DuplicatePlatformOrder,
    InvalidRequest,
    InventoryUnavailable,
    ReservationRefused,
    StatusNotSupportedYet,
)
from oms_orders.domain.order import Order, platform_actor
from oms_orders.domain.snapshot import PlatformOrderSnapshot, validate
from oms_orders.domain.states import OrderState
from oms_orders.domain.sync import ProcessedRequest, SyncOutcome
from oms_orders.domain.tcc import INVENTORY, ORDER_PLACE, GlobalTransaction, TransactionState
from oms_orders.domain.values import PlatformOrderStatus
from oms_orders.service_layer.order_flow import OrderFlow
from oms_orders.service_layer.ports import InventoryParticipant
from oms_orders.service_layer.tcc_steps import TccSteps

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

INVENTORY_BRANCH = "inventory-01"
_CANCELLABLE = frozenset({OrderState.PAID, OrderState.IN_REVIEW, OrderState.ALLOCATED})
_ATTEMPTS = 3
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
        inventory: InventoryParticipant,
        clock: Clock,
        *,
        payment_window: timedelta,
        try_timeout: timedelta,
        flow: OrderFlow | None = None,
        payment_windows: Mapping[str, timedelta] | None = None,
    ) -> None:
        self._uow = uow
        self._inventory = inventory
        self._clock = clock
        self._payment_window = payment_window
        self._payment_windows = dict(payment_windows or {})
        self._try_timeout = try_timeout
        self._flow = flow
        lease = flow.coordinator.lease_for if flow is not None else None
        self._steps = TccSteps(uow, clock, lease)

    async def __call__(self, command: SyncPlatformOrder) -> SyncResult:
        if not command.request_id.strip():
            raise InvalidRequest("request_id must not be empty", metadata={"field": "request_id"})
        span = trace.get_current_span()
        if command.snapshot.platform is not None:
            span.set_attribute(SPAN_ATTR_PLATFORM, command.snapshot.platform.value)
        # One local transaction answers a repeated request id, or reconciles the snapshot.
        settled = await _retrying(lambda: self._reconcile(command))
        if isinstance(settled, SyncResult):
            newer = settled.outcome is SyncOutcome.ADVANCED
            return await self._advance(command.snapshot, settled, newer=newer)
        order, logged = settled
        if command.snapshot.status is PlatformOrderStatus.CANCELLED and self._flow is not None:
            # Cancelled before we saw it created: keep the order, reserve nothing.
            return await asyncio.shield(self._create_cancelled(command.request_id, order))
        # Once the transaction is logged, finish the Try and record its outcome even if
        # the caller goes away; otherwise the order would wait for the recovery loop.
        created = await asyncio.shield(self._try_reserve(command.request_id, order, logged))
        return await self._advance(command.snapshot, created, newer=True)

    async def _create_cancelled(self, request_id: str, order: Order) -> SyncResult:
        assert self._flow is not None
        cancelled = await self._flow.cancel(
            order.order_id, reason="cancelled on the platform", code="PLATFORM_CANCELLED"
        )
        async with self._uow() as uow:
            await uow.requests.record(
                ProcessedRequest(request_id, order.order_id, SyncOutcome.CREATED, self._clock.now())
            )
            await uow.commit()
        return SyncResult(cancelled, SyncOutcome.CREATED)

    async def _advance(
        self, snapshot: PlatformOrderSnapshot, result: SyncResult, *, newer: bool
    ) -> SyncResult:
        """Move the order forward to what the platform says (idempotent, forward only).

        A lagging order catches up even from a repeated snapshot, so a crash between
        recording the snapshot and moving the order cannot lose a payment.
        """
        flow, order, status = self._flow, result.order, snapshot.status
        if flow is None or status is None:
            return result
        outcome = result.outcome
        moved = order
        paid_like = {
            PlatformOrderStatus.PAID,
            PlatformOrderStatus.SHIPPED,
            PlatformOrderStatus.DELIVERED,
            PlatformOrderStatus.COMPLETED,
        }
        if status in paid_like and order.state is OrderState.PENDING_PAYMENT:
            moved = await flow.record_payment(order.order_id, actor=platform_actor(snapshot))
        elif status in paid_like and order.state is OrderState.REJECTED:
            log.error(
                "ORDER_PAYMENT_EXCEPTION: platform reports %s order %s paid but it was rejected",
                order.platform.value,
                order.platform_order_id,
                extra={"code": "ORDER_PAYMENT_EXCEPTION", "order_id": order.order_id},
            )
        elif status is PlatformOrderStatus.CANCELLED and (
            order.state is OrderState.PENDING_PAYMENT or (newer and order.state in _CANCELLABLE)
        ):
            moved = await flow.cancel(
                order.order_id,
                reason="cancelled on the platform",
                code="PLATFORM_CANCELLED",
                actor=platform_actor(snapshot),
            )
        if moved is not order and outcome is SyncOutcome.STALE:
            outcome = SyncOutcome.ADVANCED
        return SyncResult(moved, outcome)

    async def _reconcile(
        self, command: SyncPlatformOrder
    ) -> SyncResult | tuple[Order, GlobalTransaction]:
        """Answer from the stored order, or store a new one (with its transaction) to try;
        the order to try comes with its transaction as logged."""
        snapshot = command.snapshot
        now = self._clock.now()
        async with self._uow() as uow:
            earlier = await _earlier_answer(uow, command.request_id)
            if earlier is not None:  # answered before: DUPLICATE, moved forward if need be
                return earlier
            validate(snapshot)
            assert snapshot.platform is not None
            order = await uow.orders.get_by_platform_ref(
                snapshot.platform, snapshot.platform_order_id
            )
            if order is not None:
                _tag_order(order)
                if order.state is OrderState.PENDING_PAYMENT and not order.allocations:
                    tx = await uow.transactions.get(order.gid)
                    if tx is not None and tx.state is TransactionState.TRYING:
                        # The push that created it died mid-Try: finish that Try now
                        # (inventory answers a repeated Try with the same reservation).
                        return order, tx
                outcome = SyncOutcome.STALE
                if snapshot.is_newer_than(order.platform_update_time, order.platform_version):
                    order.note_platform_update(snapshot, at=now)
                    await uow.orders.save(order)
                    outcome = SyncOutcome.ADVANCED
                await uow.requests.record(
                    ProcessedRequest(command.request_id, order.order_id, outcome, now)
                )
                await uow.commit()
                return SyncResult(order, outcome)
            if self._flow is None:
                _require_supported(snapshot)
            gid = new_id()
            window = self._payment_windows.get(snapshot.platform.value, self._payment_window)
            order = Order.place(snapshot, gid=gid, now=now, payment_window=window)
            tx = GlobalTransaction.begin(
                gid,
                kind=ORDER_PLACE,
                subject=order.name,
                branches=[(INVENTORY_BRANCH, INVENTORY)],
                now=now,
                retry_at=now + 2 * self._try_timeout,
            )
            _tag_order(order)
            await uow.orders.add(order)
            await uow.transactions.add(tx)
            await uow.commit()
        return order, tx

    async def _try_reserve(
        self, request_id: str, order: Order, logged: GlobalTransaction
    ) -> SyncResult:
        with tracer.start_as_current_span(f"tcc.try {INVENTORY_BRANCH}") as span:
            span.set_attribute(SPAN_ATTR_ORDER_ID, order.order_id)
            span.set_attribute(SPAN_ATTR_PLATFORM, order.platform.value)
            span.set_attribute(SPAN_ATTR_GID, order.gid)
            span.set_attribute(SPAN_ATTR_BRANCH, INVENTORY_BRANCH)
            try:
                allocations = await self._inventory.try_reserve(
                    gid=order.gid,
                    branch_id=INVENTORY_BRANCH,
                    order_id=order.order_id,
                    lines=order.reserve_lines(),
                    ship_to_province=order.shipping_address.province,
                    expire_time=order.payment_deadline,
                )
            except ReservationRefused as refusal:
                span.set_attribute("oms.tcc.outcome", "refused")
                refused = refusal
            except InventoryUnavailable as unknown:
                span.set_attribute("oms.tcc.outcome", "unknown")
                span.record_exception(unknown)
                await self._give_up(order, unknown)
                raise InventoryUnavailable(
                    f"inventory did not confirm the stock reservation for "
                    f"{order.platform.value} order {order.platform_order_id} ({unknown.message}); "
                    "nothing was kept, retry later",
                    metadata={"gid": order.gid},
                ) from unknown
            else:
                span.set_attribute("oms.tcc.outcome", "tried")
                created = await _retrying(
                    lambda: self._steps.tried(
                        request_id, order.order_id, INVENTORY_BRANCH, allocations, logged=logged
                    )
                )
                return SyncResult(created, SyncOutcome.CREATED)
        return await self._reject(request_id, order, refused)

    async def _reject(
        self, request_id: str, order: Order, refusal: ReservationRefused
    ) -> SyncResult:
        rejected = await _retrying(
            lambda: self._steps.try_refused(
                request_id, order.order_id, INVENTORY_BRANCH, refusal.reason, explain(refusal)
            )
        )
        log.info(
            "order rejected by inventory",
            extra={"order_id": order.order_id, "gid": order.gid, "reason": refusal.reason},
        )
        await self._cancel_branch(order.gid)
        return SyncResult(rejected, SyncOutcome.REJECTED)

    async def _give_up(self, order: Order, unknown: InventoryUnavailable) -> None:
        """Unknown Try outcome: drop the order, cancel the branch (or leave it for recovery)."""
        await self._steps.try_unknown(order.order_id, order.gid, INVENTORY_BRANCH, unknown.message)
        log.warning(
            "inventory try outcome unknown; order dropped, platform push to be retried",
            extra={"order_id": order.order_id, "gid": order.gid, "error": unknown.message},
        )
        await self._cancel_branch(order.gid)

    async def _cancel_branch(self, gid: str) -> None:
        if self._flow is not None:  # the library's Cancel round: retries, parking, alert
            await self._flow.coordinator.drive(gid)
            return
        try:
            await self._inventory.cancel_reserve(gid=gid, branch_id=INVENTORY_BRANCH)
        except InventoryUnavailable as exc:
            log.warning(
                "cancel failed; transaction left CANCELLING for recovery",
                extra={"gid": gid, "error": exc.message},
            )
            await self._steps.cancel_failed(gid, INVENTORY_BRANCH, exc.message)
        else:
            await self._steps.cancelled(gid, INVENTORY_BRANCH)


def explain(refusal: ReservationRefused) -> str:
    """The rejection in words for the merchant, naming the SKU when inventory said which."""
    sku = refusal.metadata.get("sku")
    if sku and refusal.reason == "INSUFFICIENT_STOCK":
        return f"not enough stock for SKU {sku}"
    if sku and refusal.reason == "UNKNOWN_SKU":
        return f"unknown SKU {sku}"
    return f"inventory refused the reservation: {refusal.message}"


async def _earlier_answer(uow: OrdersUnitOfWork, request_id: str) -> SyncResult | None:
    seen = await uow.requests.get(request_id)
    order = await uow.orders.get(seen.order_id) if seen else None
    if order is None:
        return None
    _tag_order(order)
    return SyncResult(order, SyncOutcome.DUPLICATE)


def _require_supported(snapshot: PlatformOrderSnapshot) -> None:
    if snapshot.status is not PlatformOrderStatus.CREATED:
        status = snapshot.status.value if snapshot.status else "UNSPECIFIED"
        raise StatusNotSupportedYet(
            f"platform status {status} is not handled yet; only CREATED snapshots are",
            metadata={"status": status},
        )


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
