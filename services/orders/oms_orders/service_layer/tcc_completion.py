"""What orders does when a transaction it coordinates reaches a new state.

Runs inside the coordinator's local transaction for that state (so the order
and the log never disagree after a crash), and only translates: each case
reads the order in that transaction, calls one
method of ``Order``, saves, and publishes what it returned. The rules
themselves live on the order and ``ApprovalRules``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from omslib.clock import Clock
from omslib.tcc import GlobalTransaction, Phase, TransactionState
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters import order_events
from oms_orders.domain.approval import ApprovalRules
from oms_orders.domain.events import OrderEvent
from oms_orders.domain.order import PAYMENT_AFTER_STOCK_RELEASE, Order
from oms_orders.domain.tcc import ORDER_PLACE
from oms_orders.service_layer.order_changes import change_order

log = logging.getLogger(__name__)
T = TransactionState
ALERT_CODE = "ORDER_PAYMENT_EXCEPTION"


def order_id_of(tx: GlobalTransaction) -> str:
    return tx.subject.removeprefix("orders/")


class OrderTransactionHooks:
    """``omslib.tcc.Hooks`` for the orders coordinator."""

    def __init__(self, clock: Clock, rules: ApprovalRules, ship_within: timedelta) -> None:
        self._clock = clock
        self._rules = rules
        self._ship_within = ship_within

    async def on_transition(
        self, session: AsyncSession, tx: GlobalTransaction, before: TransactionState
    ) -> None:
        note = ""
        if tx.kind == ORDER_PLACE:
            note = await self._place_moved(session, tx, before)
        if tx.state is T.PARKED:
            # Written with the parking itself: never lost, never sent for a rolled-back park.
            codes = [PAYMENT_AFTER_STOCK_RELEASE] if note else []
            alert = order_events.parked_alert(
                tx, at=self._clock.now(), reason_codes=codes, note=note
            )
            await order_events.write(session, [alert])

    async def _place_moved(
        self, session: AsyncSession, tx: GlobalTransaction, before: TransactionState
    ) -> str:
        """Move the order with its place transaction; what a parking alert must add."""
        if tx.state is T.CONFIRMED:
            await self._change(session, tx, self._review)
        elif tx.state is T.PARKED and tx.phase is Phase.CONFIRM:
            order = await self._change(session, tx, self._stock_lost, always_save=True)
            if order is not None and order.payment is not None:
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
        elif before is T.TRYING and tx.state is T.CANCELLING:
            # The recovery loop gave up on a Try nobody finished: the order expires
            # (a no-op when the order was already refused, cancelled or rejected).
            await self._change(session, tx, lambda order, tx: order.expire(at=self._clock.now()))
        return ""

    def _review(self, order: Order, tx: GlobalTransaction) -> list[OrderEvent]:
        reasons = self._rules.review_reasons(order)
        return order.review(reasons, at=self._clock.now(), ship_within=self._ship_within)

    def _stock_lost(self, order: Order, tx: GlobalTransaction) -> list[OrderEvent]:
        order.stock_lost_after_payment(tx.reason, at=self._clock.now())
        return []

    async def _change(
        self,
        session: AsyncSession,
        tx: GlobalTransaction,
        change: Callable[[Order, GlobalTransaction], list[OrderEvent]],
        *,
        always_save: bool = False,
    ) -> Order | None:
        return await change_order(
            session, order_id_of(tx), lambda order: change(order, tx), always_save=always_save
        )
