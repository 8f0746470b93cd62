"""The events orders writes into its outbox: order events on oms.orders, alerts on oms.alerts.

Each function here builds what a change caused as ``(stream, envelope)`` pairs; the
writer decides the transaction. The unit of work writes them with ``add_event`` (its
commit wakes the relay: ``OutboxUnitOfWork``); code running in the TCC coordinator's
own transaction (its hooks, the Try's outcome) writes them with :func:`write`, and the
coordinator wakes the relay after that commit (its ``on_commit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from oms.events.v1.alert_events_pb2 import ALERT_SEVERITY_CRITICAL, Alert
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.order_events_pb2 import OrderCreated, OrderRefunded, OrderStateChanged
from omslib.outbox import STREAM_ALERTS, STREAM_ORDERS, add_event, build_envelope
from omslib.tcc import PARKED_CODE, GlobalTransaction
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters import orm

# Events carry the same oms.orders.v1 messages as the gRPC API, so they share its
# mapping (pure: domain -> generated code, nothing of the server).
from oms_orders.adapters.order_messages import (
    money_to_proto,
    order_to_proto,
    transition_to_proto,
)
from oms_orders.domain.events import OrderAnnounced, OrderEvent, StateChanged
from oms_orders.domain.order import Order, StateTransition
from oms_orders.domain.refunds import RefundFreeze
from oms_orders.domain.values import Money

SOURCE = "orders"
ORDER = "order"
TRANSACTION = "transaction"

#: One event to write: the stream it goes to and its envelope.
Outgoing = tuple[str, EventEnvelope]


async def write(session: AsyncSession, outgoing: Iterable[Outgoing]) -> None:
    """Write ``outgoing`` in ``session``'s transaction (one the coordinator commits)."""
    for stream, envelope in outgoing:
        await add_event(session, orm.outbox, stream=stream, envelope=envelope)


def event(
    stream: str, *, aggregate_type: str, aggregate_id: str, payload: Message, occur_time: datetime
) -> Outgoing:
    """One orders event (its sequence is assigned when it is written)."""
    envelope = build_envelope(
        payload,
        source=SOURCE,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        occur_time=occur_time,
    )
    return stream, envelope


async def publish(session: AsyncSession, order: Order, events: Sequence[OrderEvent]) -> None:
    """Write what a change to ``order`` caused in ``session``'s (the coordinator's) transaction."""
    await write(session, caused_by(order, events))


def caused_by(order: Order, events: Sequence[OrderEvent]) -> list[Outgoing]:
    """What a change to ``order`` caused.

    OrderAnnounced becomes OrderCreated (with every move so far), each
    StateChanged one OrderStateChanged; stock settlement and the refund owed
    are visible on the order itself (its state changes carry the reason codes).
    """
    outgoing: list[Outgoing] = []
    for caused in events:
        if isinstance(caused, OrderAnnounced):
            outgoing += order_created(order)
        elif isinstance(caused, StateChanged):
            outgoing += state_changes(order, [order.history[caused.index]])
    return outgoing


def order_created(order: Order) -> list[Outgoing]:
    """OrderCreated (the order as it stands now), then one OrderStateChanged per later move."""
    created = event(
        STREAM_ORDERS,
        aggregate_type=ORDER,
        aggregate_id=order.order_id,
        payload=OrderCreated(order=order_to_proto(order)),
        occur_time=order.create_time,
    )
    return [created, *state_changes(order, order.history[1:])]


def state_changes(order: Order, transitions: Sequence[StateTransition]) -> list[Outgoing]:
    """One OrderStateChanged per transition, in order, with the order's reason codes."""
    return [
        event(
            STREAM_ORDERS,
            aggregate_type=ORDER,
            aggregate_id=order.order_id,
            payload=OrderStateChanged(
                order_id=order.order_id,
                transition=transition_to_proto(transition),
                reason_codes=order.reason_codes,
            ),
            occur_time=transition.time,
        )
        for transition in transitions
    ]


def order_refunded(order: Order, freeze: RefundFreeze) -> Outgoing:
    """OrderRefunded: ``freeze``'s amount is now part of ``order``'s refunded total."""
    currency = freeze.amount.currency
    return event(
        STREAM_ORDERS,
        aggregate_type=ORDER,
        aggregate_id=order.order_id,
        payload=OrderRefunded(
            order_id=order.order_id,
            amount=money_to_proto(freeze.amount),
            refunded=money_to_proto(Money(order.refunded_minor_units, currency)),
            gid=freeze.gid,
        ),
        occur_time=freeze.update_time,
    )


def parked_alert(
    tx: GlobalTransaction,
    *,
    at: datetime,
    reason_codes: Sequence[str] = (),
    note: str = "",
) -> Outgoing:
    """Alert TCC_TRANSACTION_PARKED on oms.alerts, for the transaction that parks ``tx``."""
    attributes = {
        "gid": tx.gid,
        "kind": tx.kind,
        "phase": tx.phase.value,
        "reason": tx.reason,
    }
    if reason_codes:
        attributes["reason_codes"] = ",".join(reason_codes)
    message = (
        f"transaction {tx.gid} ({tx.kind} {tx.subject}) parked after its "
        f"{tx.phase.value or 'current'} phase failed: {tx.reason}. "
        f"{note + ' ' if note else ''}Fix the cause, then retry it (RetryTransaction)."
    )
    return event(
        STREAM_ALERTS,
        aggregate_type=TRANSACTION,
        aggregate_id=tx.gid,
        payload=Alert(
            code=PARKED_CODE,
            severity=ALERT_SEVERITY_CRITICAL,
            message=message,
            subject=tx.subject,
            attributes=attributes,
            raise_time=_stamp(at),
        ),
        occur_time=at,
    )


def _stamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp
