"""What aftersales learns from oms.orders: the orders of each customer (for profiles,
order links and reply templates) and the not-shipped-on-time check.

Order events do not carry a promised ship time, so it is derived from the paid
time with a per-platform rule (``ShipPromise``): paid time + the platform's
hours (wall-clock; the platforms' own rules count calendar hours). A paid order
gets an ``order`` timer at that time; shipping, cancelling or rejecting it
removes the timer; when the timer fires on an order still not shipped, an
RTS-001 ticket is opened with request id ``rts:{order_id}`` (one per order).

A paid order cancelled or rejected before shipment owes its payment back (orders
shows it as ``refund_owed``): a ``refund_owed`` timer, due at once, starts the
refund with request id ``owed:{order_id}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from oms.events.v1.order_events_pb2 import OrderCreated, OrderStateChanged
from oms.orders.v1 import order_pb2
from oms.type.v1 import platform_pb2
from omslib.db.inserts import insert_if_absent
from omslib.events import Handler, ReceivedEvent
from sqlalchemy.ext.asyncio import AsyncSession

from oms_aftersales.adapters import orm
from oms_aftersales.adapters.customers_repository import CustomerRepository
from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.domain.customers import CustomerIdentity, buyer_key, parse_key
from oms_aftersales.domain.ticket import Channel
from oms_aftersales.service_layer.commands import CustomerMessage
from oms_aftersales.service_layer.intake import CustomerIntake
from oms_aftersales.service_layer.refunds import RefundRefused, RefundRequest, RefundService

log = logging.getLogger(__name__)
GROUP = "aftersales-orders"
ORDER = "order"
RTS_KEY = "rts"
RTS_CODE = "RTS-001"
#: A paid order that ended before shipment: its refund is started (orders shows it owed).
REFUND_OWED = "refund_owed"
ENDED = frozenset({"CANCELLED", "REJECTED"})
NOT_SHIPPED = frozenset({"PAID", "IN_REVIEW", "ALLOCATED"})
DONE = frozenset({"SHIPPED", "DELIVERED", "COMPLETED", "CANCELLED", "REJECTED"})


@dataclass(frozen=True)
class ShipPromise:
    """Hours from payment to the promised ship time, per platform (lower case)."""

    default_hours: float = 48
    per_platform: Mapping[str, float] = field(default_factory=dict)

    def promised(self, platform: str, paid_at: datetime) -> datetime:
        return paid_at + timedelta(hours=self.per_platform.get(platform, self.default_hours))


def _state(value: order_pb2.OrderState.ValueType) -> str:
    return str(order_pb2.OrderState.Name(value)).removeprefix("ORDER_STATE_")


def _platform(value: platform_pb2.Platform.ValueType) -> str:
    return str(platform_pb2.Platform.Name(value)).removeprefix("PLATFORM_").lower()


class OrderFeed:
    def __init__(
        self,
        promise: ShipPromise,
        intake: CustomerIntake,
        uow_factory: Callable[[], AftersalesUnitOfWork],
        refunds: RefundService | None = None,
    ) -> None:
        self._promise = promise
        self._intake = intake
        self._uow = uow_factory
        self._refunds = refunds

    def handlers(self) -> dict[str, Handler]:
        return {"OrderCreated": self.on_created, "OrderStateChanged": self.on_state_changed}

    async def on_created(self, session: AsyncSession, event: ReceivedEvent) -> None:
        order = event.unpack(OrderCreated).order
        platform = _platform(order.platform)
        customers = CustomerRepository(session)
        created = order.create_time.ToDatetime(tzinfo=UTC)
        key = buyer_key(platform, order.buyer.id or f"order-{order.order_id}")
        await customers.resolve(
            CustomerIdentity(platform=platform, buyer_id=key.split(":", 2)[2]), None, created
        )
        paid = order.pay_time.ToDatetime(tzinfo=UTC) if order.HasField("pay_time") else None
        state = _state(order.state)
        await customers.upsert_order(
            {
                "order_id": order.order_id,
                "customer_key": key,
                "platform": platform,
                "platform_order_id": order.platform_order_id,
                "state": state,
                "total_minor_units": order.total.minor_units,
                "currency": order.total.currency_code or "CNY",
                "created_at": created,
                "paid_at": paid,
                "promised_ship_at": self._promise.promised(platform, paid) if paid else None,
                "shipped_at": None,
            }
        )
        if paid is not None and state in NOT_SHIPPED:
            await self._watch(session, order.order_id, self._promise.promised(platform, paid))

    async def on_state_changed(self, session: AsyncSession, event: ReceivedEvent) -> None:
        change = event.unpack(OrderStateChanged)
        state = _state(change.transition.to_state)
        at = change.transition.time.ToDatetime(tzinfo=UTC)
        customers = CustomerRepository(session)
        known = await customers.order(change.order_id)
        if known is None:
            return  # created before this consumer's history; nothing to attach it to
        values: dict[str, object] = {"state": state}
        if state == "PAID" and known.paid_at is None:
            promised = self._promise.promised(known.platform, at)
            values.update(paid_at=at, promised_ship_at=promised)
            await self._watch(session, change.order_id, promised)
        if state in DONE:
            if state == "SHIPPED":
                values["shipped_at"] = at
            c = orm.timers.c
            await session.execute(
                sa.delete(orm.timers).where(
                    c.subject_type == ORDER, c.subject_id == change.order_id, c.fired_at.is_(None)
                )
            )
        if state in ENDED and known.paid_at is not None and known.shipped_at is None:
            # The goods never left and orders owes the payment back: start the refund
            # through a timer row, so it survives a crash and runs once, outside this event.
            await self._watch(session, change.order_id, at, key=REFUND_OWED)
        await customers.update_order(change.order_id, **values)

    async def _watch(
        self, session: AsyncSession, order_id: str, due: datetime, *, key: str = RTS_KEY
    ) -> None:
        await insert_if_absent(
            session,
            orm.timers,
            {
                "subject_type": ORDER,
                "subject_id": order_id,
                "key": key,
                "kind": key,
                "level": 0,
                "deadline": "promised_ship" if key == RTS_KEY else key,
                "deadline_due_at": due,
                "due_at": due,
            },
            on=("subject_type", "subject_id", "key"),
        )

    async def on_order_timer(self, order_id: str, kind: str, now: datetime) -> None:
        """An order timer came due: the ship-time check, or the refund an ended order owes."""
        if kind == REFUND_OWED:
            await self.start_owed_refund(order_id)
        else:
            await self.check_shipped(order_id, now)

    async def start_owed_refund(self, order_id: str) -> None:
        """Refund the whole payment of a paid order that ended unshipped (once: its request
        id is the order's). The refund rules decide whether it goes out at once."""
        async with self._uow() as uow:
            order = await uow.customers.order(order_id)
        if order is None or self._refunds is None:
            return
        try:
            refund, seen = await self._refunds.request(
                RefundRequest(
                    request_id=f"owed:{order_id}",
                    order_id=order_id,
                    currency=order.currency,
                    amount=order.total_minor_units,
                    reason="the order ended after payment, before shipment",
                    actor="system",
                )
            )
        except RefundRefused as refused:
            if refused.reason != "REFUND_EXCEEDS_REFUNDABLE":
                raise
            log.info("owed refund of %s already covered by earlier refunds", order_id)
            return
        if not seen:
            log.info(
                "refund started for an order that ended after payment",
                extra={"order_id": order_id, "refund_id": refund.refund_id},
            )

    async def check_shipped(self, order_id: str, now: datetime) -> None:
        """The order timer fired: open RTS-001 if the order is still not shipped."""
        async with self._uow() as uow:
            order = await uow.customers.order(order_id)
        if order is None or order.state not in NOT_SHIPPED or order.shipped_at is not None:
            return
        promised = order.promised_ship_at.isoformat() if order.promised_ship_at else "?"
        intake = await self._intake.record_message(
            CustomerMessage(
                request_id=f"rts:{order_id}",
                channel=Channel.SYSTEM,
                merchant_id="",
                customer=_identity(order.customer_key),
                text=f"Order {order.platform_order_id} ({order.platform}) was paid but not shipped "
                f"by its promised ship time {promised}.",
                order_id=order_id,
                issue_code=RTS_CODE,
                operator="system",
                new_ticket=True,
            )
        )
        if not intake.duplicate:
            log.warning(
                "order not shipped on time: ticket opened",
                extra={
                    "code": "ORDER_NOT_SHIPPED_ON_TIME",
                    "order_id": order_id,
                    "ticket_id": intake.ticket.ticket_id,
                },
            )


def _identity(customer_key: str) -> CustomerIdentity:
    return parse_key(customer_key)
