"""The order's life after it is placed: one handler per command.

Each handler loads the order, calls one method of ``Order``, saves it and
publishes what the method returned, and logs the stock settlement that
caused (``Settlement``), all in one local transaction; then it drives the
logged TCC round. Work on one order is
serialised in this process; across processes the order's version decides and
the loser retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from omslib.clock import Clock
from omslib.errors import FailedPrecondition
from omslib.keyed_locks import KeyedLocks
from omslib.tcc import ConcurrentTransactionChange, Coordinator, GlobalTransaction

from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.domain.errors import ConcurrentModification, OrderNotFound
from oms_orders.domain.events import OrderEvent
from oms_orders.domain.order import Order, Payment, Shipment
from oms_orders.domain.sync import ProcessedRequest, Refusal, SyncOutcome
from oms_orders.service_layer import commands as c
from oms_orders.service_layer.idempotency import (
    ReplayedRefusal,
    earlier_request,
    fingerprint,
    replayed_refusal,
)
from oms_orders.service_layer.settlement import Settlement

log = logging.getLogger(__name__)

Change = Callable[[Order, datetime], list[OrderEvent]]
ALERT_CODE = "ORDER_PAYMENT_EXCEPTION"
_ATTEMPTS = 5


class OrderHandlers:
    def __init__(
        self,
        uow: Callable[[], OrdersUnitOfWork],
        coordinator: Coordinator,
        clock: Clock,
        locks: KeyedLocks | None = None,
    ) -> None:
        self._uow = uow
        self.coordinator = coordinator
        self._clock = clock
        self._locks = locks or KeyedLocks()
        self._settlement = Settlement(coordinator)

    async def get(self, order_id: str) -> Order:
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(f"order {order_id} not found", metadata={"order_id": order_id})
        return order

    async def pay(self, cmd: c.RecordPayment) -> Order:
        """Payment recorded; the reservation is deducted, then the approval rules run."""

        def pay(order: Order, now: datetime) -> list[OrderEvent]:
            payment = Payment(cmd.amount, cmd.reference, cmd.pay_time or now)
            return order.pay(payment, at=now, actor=cmd.actor)

        asked = fingerprint(
            "RecordPayment", amount=cmd.amount, reference=cmd.reference, pay_time=cmd.pay_time
        )
        return await self._handle(cmd.order_id, cmd.request_id, asked, pay)

    async def record_late_payment(self, cmd: c.RecordPayment) -> Order:
        """A platform reports a payment for an order that already ended: owed back, alerted."""

        def late(order: Order, now: datetime) -> list[OrderEvent]:
            payment = Payment(cmd.amount, cmd.reference, cmd.pay_time or now)
            return order.paid_after_it_ended(payment, at=now)

        order = await self._handle(cmd.order_id, cmd.request_id, "", late)
        log.error(
            "%s: %s order %s was paid; the payment is owed back",
            ALERT_CODE,
            order.state.value,
            order.order_id,
            extra={"code": ALERT_CODE, "order_id": order.order_id, "gid": order.gid},
        )
        return order

    async def cancel(self, cmd: c.CancelOrder) -> Order:
        """Cancelled: the reservation released, or the deducted units restocked."""
        asked = fingerprint("CancelOrder", reason=cmd.reason, code=cmd.code)
        return await self._handle(
            cmd.order_id,
            cmd.request_id,
            asked,
            lambda order, now: order.cancel(
                reason=cmd.reason, code=cmd.code, actor=cmd.actor, at=now
            ),
        )

    async def reject(self, cmd: c.RejectOrder) -> Order:
        asked = fingerprint("RejectOrder", reason=cmd.reason, operator=cmd.operator)
        return await self._handle(
            cmd.order_id,
            cmd.request_id,
            asked,
            lambda order, now: order.reject(reason=cmd.reason, operator=cmd.operator, at=now),
        )

    async def approve(self, cmd: c.ApproveOrder) -> Order:
        asked = fingerprint("ApproveOrder", note=cmd.note, operator=cmd.operator)
        return await self._handle(
            cmd.order_id,
            cmd.request_id,
            asked,
            lambda order, now: order.approve(operator=cmd.operator, note=cmd.note, at=now),
        )

    async def ship(self, cmd: c.RecordShipment) -> Order:
        def ship(order: Order, now: datetime) -> list[OrderEvent]:
            shipment = Shipment(cmd.carrier, cmd.tracking_number, cmd.ship_time or now)
            return order.ship(shipment, actor=cmd.actor, at=now)

        asked = fingerprint(
            "RecordShipment",
            carrier=cmd.carrier,
            tracking_number=cmd.tracking_number,
            ship_time=cmd.ship_time,
        )
        return await self._handle(cmd.order_id, cmd.request_id, asked, ship)

    async def expire_unpaid(self, *, limit: int = 100) -> int:
        """Payment deadline job: cancel unpaid orders past their deadline; how many."""
        async with self._uow() as uow:
            due = await uow.orders.due_for_payment_timeout(self._clock.now(), limit)
        expired = 0
        for order_id in due:
            try:
                order = await self._handle(
                    order_id, "", "", lambda order, now: order.expire(at=now)
                )
            except Exception as exc:  # one order's failure must not stop the round
                log.warning("deadline cancel of %s skipped: %s", order_id, exc)
                continue
            expired += order.state.value == "CANCELLED"
        return expired

    async def _handle(self, order_id: str, request_id: str, asked: str, change: Change) -> Order:
        async with self._locks.hold(order_id):
            for attempt in range(_ATTEMPTS):
                try:
                    order, logged = await self._apply(order_id, request_id, asked, change)
                    break
                except (ConcurrentModification, ConcurrentTransactionChange) as exc:
                    if attempt == _ATTEMPTS - 1:
                        raise ConcurrentModification(
                            f"order {order_id} kept changing concurrently; retry",
                            metadata={"order_id": order_id},
                        ) from exc
                except FailedPrecondition as refused:
                    if request_id and not isinstance(refused, ReplayedRefusal):
                        await self._remember_refusal(order_id, request_id, asked, refused)
                    raise
            if not logged:
                return order
            await self._drive(logged)
        return await self.get(order_id)  # as the round's hooks left it

    async def _apply(
        self, order_id: str, request_id: str, asked: str, change: Change
    ) -> tuple[Order, list[GlobalTransaction]]:
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None:
                raise OrderNotFound(f"order {order_id} not found", metadata={"order_id": order_id})
            earlier = await earlier_request(uow, request_id, asked)
            if earlier is not None and earlier.refusal is not None:
                raise replayed_refusal(earlier.refusal)
            if earlier is not None:
                return order, []
            now = self._clock.now()
            events = change(order, now)
            logged: list[GlobalTransaction] = []
            if events:
                # The order first: the coordinator's hooks read it in this transaction.
                await uow.orders.save(order)
                await uow.publish(order, events)
                logged = await self._settlement.log(uow.session, order, events)
            if request_id:
                await uow.requests.record(
                    ProcessedRequest(request_id, order_id, SyncOutcome.ADVANCED, now, asked)
                )
            await uow.commit()
        return order, logged

    async def _remember_refusal(
        self, order_id: str, request_id: str, asked: str, refused: FailedPrecondition
    ) -> None:
        """The order's rules refused the request: a replay of it is refused the same way,
        even once the order has moved on (the first answer is the answer, as with a
        payment API's idempotency key)."""
        refusal = Refusal(
            refused.reason or "",
            refused.message[:500],
            {k: str(v)[:200] for k, v in list(refused.metadata.items())[:10]},
        )
        async with self._uow() as uow:
            await uow.requests.record(
                ProcessedRequest(
                    request_id, order_id, SyncOutcome.REFUSED, self._clock.now(), asked, refusal
                )
            )
            await uow.commit()

    async def _drive(self, logged: Sequence[GlobalTransaction]) -> bool:
        """The change is committed: a round that fails now is finished by recovery.

        False when a round raised (what it wrote, hooks included, was rolled back)."""
        try:
            await self._settlement.drive(logged)
        except Exception:
            log.warning("settling stock now failed; the recovery loop retries", exc_info=True)
            return False
        return True
