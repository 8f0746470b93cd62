"""The order's life after the Try: payment (Confirm), cancellation (Cancel), review, shipment.

Orders is the TCC coordinator (``omslib.tcc.Coordinator``). The order moves in
the same local transaction as the coordinator's log (the ``local`` step and the
hooks), so the two never disagree after a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime

from omslib.clock import Clock
from omslib.errors import DomainError
from omslib.tcc import (
    ConcurrentTransactionChange,
    Coordinator,
    GlobalTransaction,
    InvalidTransactionMove,
    Phase,
    TransactionState,
)
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters.order_events import emit_parked_alert
from oms_orders.adapters.repository import OrderRepository
from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.domain.approval import ApprovalRules
from oms_orders.domain.errors import (
    ConcurrentModification,
    OrderNotFound,
    PaymentAfterCancellation,
)
from oms_orders.domain.order import SYSTEM_ACTOR, Order
from oms_orders.domain.states import OrderState
from oms_orders.domain.tcc import ORDER_PLACE

log = logging.getLogger(__name__)
S = OrderState
T = TransactionState

PAYMENT_TIMEOUT = "PAYMENT_TIMEOUT"
PAYMENT_AFTER_STOCK_RELEASE = "PAYMENT_AFTER_STOCK_RELEASE"
ALERT_CODE = "ORDER_PAYMENT_EXCEPTION"
AFTER_PAYMENT = frozenset({S.PAID, S.IN_REVIEW, S.ALLOCATED, S.SHIPPED, S.DELIVERED, S.COMPLETED})


def order_id_of(tx: GlobalTransaction) -> str:
    return tx.subject.removeprefix("orders/")


# Orders the hooks saved during the current call (order id -> order as committed with
# the hook's local transaction), so the caller can answer without reading it again.
_saved_by_hooks: ContextVar[dict[str, Order] | None] = ContextVar("saved_by_hooks", default=None)


def _note_saved(order: Order) -> None:
    saved = _saved_by_hooks.get()
    if saved is not None:
        saved[order.order_id] = order


class OrderHooks:
    """Moves the order with its transaction, inside the coordinator's local transaction."""

    def __init__(self, clock: Clock, rules: ApprovalRules) -> None:
        self._clock = clock
        self.rules = rules

    async def on_transition(
        self, session: AsyncSession, tx: GlobalTransaction, before: TransactionState
    ) -> None:
        note = await self._move_order(session, tx, before)
        if tx.state is T.PARKED:
            # Written with the parking itself: never lost, never sent for a rolled-back park.
            codes = [PAYMENT_AFTER_STOCK_RELEASE] if note else []
            await emit_parked_alert(
                session, tx, at=self._clock.now(), reason_codes=codes, note=note
            )

    async def _move_order(
        self, session: AsyncSession, tx: GlobalTransaction, before: TransactionState
    ) -> str:
        """Move the order with ``tx``; returns what a parking alert must add, if anything."""
        if tx.kind != ORDER_PLACE or not _moves_order(tx, before):
            return ""  # e.g. CONFIRMING: the caller's local step moved the order already
        repo = OrderRepository(session)
        order = await repo.get(order_id_of(tx))
        if order is None:
            return ""
        now = self._clock.now()
        if tx.state is T.CONFIRMED and order.state is S.PAID:
            apply_rules(order, self.rules, now)
            await repo.save(order)
            _note_saved(order)
        elif tx.state is T.PARKED and tx.phase is Phase.CONFIRM and order.state is S.PAID:
            # Paid, but the stock is gone (the backstop released it): never silent.
            order.reason_codes = sorted({*order.reason_codes, PAYMENT_AFTER_STOCK_RELEASE})
            order.state_reason = f"paid but stock not deducted: {tx.reason}"
            order.update_time = now
            await repo.save(order)
            _note_saved(order)
            log.error(
                "%s: order %s was paid after its stock was released (%s)",
                ALERT_CODE,
                order.order_id,
                tx.reason,
                extra={"code": ALERT_CODE, "order_id": order.order_id, "gid": tx.gid},
            )
            return (
                f"Order {order.order_id} is paid but its stock was released "
                f"({PAYMENT_AFTER_STOCK_RELEASE}): re-reserve the stock or refund the buyer."
            )
        elif before is T.TRYING and tx.state is T.CANCELLING and order.state is S.PENDING_PAYMENT:
            # The Try's outcome was lost with its coordinator: drop the order, as the inline
            # path does; the platform's retried push creates it again.
            await repo.remove(order.order_id)
        return ""


def _moves_order(tx: GlobalTransaction, before: TransactionState) -> bool:
    """Whether ``on_transition`` has anything to do for this move (decided without reading)."""
    return (
        tx.state is T.CONFIRMED
        or (tx.state is T.PARKED and tx.phase is Phase.CONFIRM)
        or (before is T.TRYING and tx.state is T.CANCELLING)
    )


def apply_rules(order: Order, rules: ApprovalRules, now: datetime) -> None:
    reasons = rules.review_reasons(order)
    if reasons:
        order.move_to(S.IN_REVIEW, at=now, reason=", ".join(reasons), actor=SYSTEM_ACTOR)
        order.reason_codes = reasons
        order.state_reason = "needs review: " + ", ".join(reasons)
    else:
        order.move_to(S.ALLOCATED, at=now, reason="approved by rules", actor=SYSTEM_ACTOR)


class OrderFlow:
    def __init__(
        self,
        uow: Callable[[], OrdersUnitOfWork],
        coordinator: Coordinator,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self.coordinator = coordinator
        self._clock = clock

    async def get(self, order_id: str) -> Order:
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(f"order {order_id} not found", metadata={"order_id": order_id})
        return order

    async def record_payment(
        self, order_id: str, *, pay_time: datetime | None = None, actor: str = SYSTEM_ACTOR
    ) -> Order:
        """PENDING_PAYMENT -> PAID with Confirm; then the rules. Repeats are no-ops.

        Two local transactions: the order is read, moved to PAID and CONFIRMING is
        logged in one; the inventory Confirm is called; CONFIRMED and the approval
        rules are written in the second (``OrderHooks``). The answer is the order as
        that second transaction saved it.
        """
        saved: dict[str, Order] = {}
        token = _saved_by_hooks.set(saved)
        try:
            paid, tx = await self._decide_payment(order_id, pay_time, actor)
            if tx is None:  # nothing to decide: already paid, or decided concurrently
                return paid
            await self.coordinator.drive(tx)
        except (ConcurrentModification, ConcurrentTransactionChange, InvalidTransactionMove):
            now = await self.get(order_id)
            if now.state in AFTER_PAYMENT:  # a concurrent payment of the same order won
                return now
            raise
        finally:
            _saved_by_hooks.reset(token)
        # When the round did not finish (Confirm retried later), the order stays PAID.
        return saved.get(order_id, paid)

    async def _decide_payment(
        self, order_id: str, pay_time: datetime | None, actor: str
    ) -> tuple[Order, GlobalTransaction | None]:
        """Read the order, move it to PAID and log CONFIRMING, in one local transaction."""
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None:
                raise OrderNotFound(f"order {order_id} not found", metadata={"order_id": order_id})
            if order.state in AFTER_PAYMENT:
                return order, None
            if order.state in (S.CANCELLED, S.REJECTED):
                log.error(
                    "%s: payment for %s order %s (%s)",
                    ALERT_CODE,
                    order.state.value,
                    order.order_id,
                    order.state_reason,
                    extra={"code": ALERT_CODE, "order_id": order.order_id, "gid": order.gid},
                )
                raise PaymentAfterCancellation(
                    f"order {order.order_id} is {order.state.value}; the payment must be refunded",
                    metadata={"current": order.state.value, "requested": S.PAID.value},
                )
            if order.state is not S.PENDING_PAYMENT:
                raise ConcurrentModification(
                    f"order {order_id} changed concurrently", metadata={"order_id": order_id}
                )
            now = self._clock.now()

            async def pay(session: AsyncSession, tx: GlobalTransaction) -> None:
                order.move_to(S.PAID, at=now, reason="payment recorded", actor=actor)
                order.pay_time = pay_time or now
                await uow.orders.save(order)  # version-checked: a concurrent change fails

            tx, started = await self.coordinator.decide(
                uow.session, order.gid, T.CONFIRMING, local=pay
            )
            if not started:  # already confirming (a concurrent call): answer what is stored
                return order, None
            await uow.commit()
        return order, tx

    async def cancel(
        self,
        order_id: str,
        *,
        reason: str,
        code: str = "CANCELLED",
        actor: str = SYSTEM_ACTOR,
    ) -> Order:
        """Cancel; an unpaid order's stock is released through the TCC Cancel."""
        order = await self.get(order_id)
        if order.state is S.CANCELLED:
            return order

        async def cancel_order(session: AsyncSession, tx: GlobalTransaction | None) -> None:
            repo = OrderRepository(session)
            fresh = await repo.get(order_id)
            assert fresh is not None
            if fresh.state is not order.state:  # a concurrent call decided first
                raise ConcurrentModification(
                    f"order {order_id} changed concurrently", metadata={"order_id": order_id}
                )
            fresh.move_to(S.CANCELLED, at=self._clock.now(), reason=reason, actor=actor)
            fresh.state_reason = reason
            fresh.reason_codes = [code]
            await repo.save(fresh)

        try:
            if order.state is S.PENDING_PAYMENT:
                await self.coordinator.cancel(order.gid, reason=reason, local=cancel_order)
            else:
                # Paid stock stays deducted; returns and refunds go through aftersales.
                async with self._uow() as uow:
                    await cancel_order(uow.session, None)
                    await uow.commit()
        except (ConcurrentModification, ConcurrentTransactionChange, InvalidTransactionMove):
            now = await self.get(order_id)
            if now.state is S.CANCELLED:  # a concurrent cancel of the same order won
                return now
            raise
        return await self.get(order_id)

    async def _move(
        self,
        order_id: str,
        to: OrderState,
        *,
        reason: str,
        actor: str,
        explanation: str | None = None,
    ) -> Order:
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None:
                raise OrderNotFound(f"order {order_id} not found", metadata={"order_id": order_id})
            if order.state is to:
                return order
            order.move_to(to, at=self._clock.now(), reason=reason, actor=actor)
            if to is S.REJECTED:
                order.state_reason = reason
                order.reason_codes = ["REJECTED_IN_REVIEW"]
            elif explanation is not None:
                order.state_reason = explanation
            await uow.orders.save(order)
            await uow.commit()
        return order

    async def approve(self, order_id: str, *, note: str, operator: str) -> Order:
        # The review's reasons stay in reason_codes and the history; the words say who decided.
        explanation = f"approved in review by {operator}" + (f": {note}" if note else "")
        return await self._move(
            order_id,
            S.ALLOCATED,
            reason=note or "approved",
            actor=operator,
            explanation=explanation,
        )

    async def reject(self, order_id: str, *, reason: str, operator: str) -> Order:
        return await self._move(order_id, S.REJECTED, reason=reason or "rejected", actor=operator)

    async def ship(self, order_id: str, *, actor: str = SYSTEM_ACTOR) -> Order:
        return await self._move(order_id, S.SHIPPED, reason="shipment recorded", actor=actor)

    async def cancel_unpaid(self, *, limit: int = 100) -> int:
        """Payment deadline job: cancel unpaid orders past their deadline; how many."""
        async with self._uow() as uow:
            due = await uow.orders.due_for_payment_timeout(self._clock.now(), limit)
        cancelled = 0
        for order_id in due:
            try:
                order = await self.cancel(
                    order_id, reason="payment deadline passed", code=PAYMENT_TIMEOUT
                )
            except (ConcurrentModification, DomainError) as exc:
                log.info("deadline cancel of %s skipped: %s", order_id, exc)
                continue
            if order.state is S.CANCELLED:
                cancelled += 1
        return cancelled
