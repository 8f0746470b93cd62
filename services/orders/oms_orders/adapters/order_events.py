"""The events orders writes into its outbox: order events on oms.orders, alerts on oms.alerts.

Events are written through the session of the change (``add_event``), so they
commit or roll back with it. The relay is woken after that commit by a session
hook (see :func:`wake_relay_after_commit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from oms.events.v1.alert_events_pb2 import ALERT_SEVERITY_CRITICAL, Alert
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.order_events_pb2 import OrderCreated, OrderRefunded, OrderStateChanged
from omslib.outbox import STREAM_ALERTS, STREAM_ORDERS, OutboxNotifier, add_event, build_envelope
from omslib.tcc import PARKED_CODE, GlobalTransaction
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

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

_NOTIFIER = "oms.outbox.notifier"
_PENDING = "oms.outbox.pending"
_HOOKED = "oms.outbox.hooked"


def wake_relay_after_commit(
    sessions: async_sessionmaker[AsyncSession], notifier: OutboxNotifier
) -> None:
    """Give every session of ``sessions`` the relay's notifier.

    Orders changes are committed by units of work and also by the TCC
    coordinator's own sessions (its local steps and ``OrderHooks``), which know
    nothing of the outbox. Carrying the notifier in ``Session.info`` (copied
    into each session by the factory) lets :func:`emit` wake the relay after
    whichever commit publishes the event, on every path, without threading a
    notifier through the coordinator or the repositories' constructors. A
    session from a factory without it still delivers, at the relay's next sweep.
    """
    sessions.configure(info={_NOTIFIER: notifier})


async def emit(
    session: AsyncSession,
    *,
    stream: str,
    aggregate_type: str,
    aggregate_id: str,
    payload: Message,
    occur_time: datetime,
) -> EventEnvelope:
    """Write one event in ``session``'s transaction; the relay is woken after its commit."""
    envelope = build_envelope(
        payload,
        source=SOURCE,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        occur_time=occur_time,
    )
    await add_event(session, orm.outbox, stream=stream, envelope=envelope)
    _notify_after_commit(session)
    return envelope


def _notify_after_commit(session: AsyncSession) -> None:
    info = session.info
    notifier = info.get(_NOTIFIER)
    if not isinstance(notifier, OutboxNotifier):
        return
    info[_PENDING] = True
    if info.get(_HOOKED):
        return
    info[_HOOKED] = True

    def after_commit(sync_session: Session) -> None:
        if sync_session.info.pop(_PENDING, False):
            notifier.notify()

    def after_rollback(sync_session: Session) -> None:
        sync_session.info.pop(_PENDING, None)

    event.listen(session.sync_session, "after_commit", after_commit)
    event.listen(session.sync_session, "after_rollback", after_rollback)


async def publish(session: AsyncSession, order: Order, events: Sequence[OrderEvent]) -> None:
    """Write what a change to ``order`` caused, in the change's own transaction.

    OrderAnnounced becomes OrderCreated (with every move so far), each
    StateChanged one OrderStateChanged; stock settlement and the refund owed
    are visible on the order itself (its state changes carry the reason codes).
    """
    for caused in events:
        if isinstance(caused, OrderAnnounced):
            await emit_order_created(session, order)
        elif isinstance(caused, StateChanged):
            await emit_state_changes(session, order, [order.history[caused.index]])


async def emit_order_created(session: AsyncSession, order: Order) -> None:
    """OrderCreated (the order as stored now), then one OrderStateChanged per later move."""
    await emit(
        session,
        stream=STREAM_ORDERS,
        aggregate_type=ORDER,
        aggregate_id=order.order_id,
        payload=OrderCreated(order=order_to_proto(order)),
        occur_time=order.create_time,
    )
    await emit_state_changes(session, order, order.history[1:])


async def emit_state_changes(
    session: AsyncSession, order: Order, transitions: Sequence[StateTransition]
) -> None:
    """One OrderStateChanged per transition, in order, with the order's reason codes."""
    for transition in transitions:
        await emit(
            session,
            stream=STREAM_ORDERS,
            aggregate_type=ORDER,
            aggregate_id=order.order_id,
            payload=OrderStateChanged(
                order_id=order.order_id,
                transition=transition_to_proto(transition),
                reason_codes=order.reason_codes,
            ),
            occur_time=transition.time,
        )


async def emit_order_refunded(session: AsyncSession, order: Order, freeze: RefundFreeze) -> None:
    """OrderRefunded: ``freeze``'s amount is now part of ``order``'s refunded total."""
    currency = freeze.amount.currency
    await emit(
        session,
        stream=STREAM_ORDERS,
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


async def emit_parked_alert(
    session: AsyncSession,
    tx: GlobalTransaction,
    *,
    at: datetime,
    reason_codes: Sequence[str] = (),
    note: str = "",
) -> None:
    """Alert TCC_TRANSACTION_PARKED on oms.alerts, in the transaction that parks ``tx``."""
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
    await emit(
        session,
        stream=STREAM_ALERTS,
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
