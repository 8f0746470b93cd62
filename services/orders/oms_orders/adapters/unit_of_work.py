"""The orders unit of work: omslib's session handling plus this service's repositories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Self

from google.protobuf.message import Message
from oms.events.v1.envelope_pb2 import EventEnvelope
from omslib.db import UnitOfWork

from oms_orders.adapters import order_events
from oms_orders.adapters.refund_repository import RefundRepository
from oms_orders.adapters.repository import OrderRepository
from oms_orders.adapters.request_log import RequestLog
from oms_orders.adapters.tcc_repository import TransactionRepository
from oms_orders.domain.events import OrderEvent
from oms_orders.domain.order import Order
from oms_orders.domain.refunds import RefundFreeze


class OrdersUnitOfWork(UnitOfWork):
    """``async with uow:`` gives ``uow.orders``, ``uow.transactions`` and ``uow.requests``.

    ``publish`` writes what an order's change caused, ``emit`` any other event.
    Either way the relay is woken after ``commit()`` by the session's after-commit
    hook (``order_events.wake_relay_after_commit``), not here, so the
    coordinator's own sessions get the same prompt delivery.
    """

    orders: OrderRepository
    transactions: TransactionRepository
    requests: RequestLog
    refunds: RefundRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.orders = OrderRepository(self.session)
        self.transactions = TransactionRepository(self.session)
        self.requests = RequestLog(self.session)
        self.refunds = RefundRepository(self.session)
        return self

    async def publish(self, order: Order, events: Sequence[OrderEvent]) -> None:
        """Write the events of ``order``'s change in this unit of work's transaction."""
        await order_events.publish(self.session, order, events)

    async def publish_refund(self, order: Order, freeze: RefundFreeze) -> None:
        """OrderRefunded for ``freeze``, recorded on ``order`` in this transaction."""
        await order_events.emit_order_refunded(self.session, order, freeze)

    async def emit(
        self,
        stream: str,
        aggregate_type: str,
        aggregate_id: str,
        payload: Message,
        *,
        occur_time: datetime,
    ) -> EventEnvelope:
        """Write an event in this unit of work's transaction (published after ``commit()``)."""
        return await order_events.emit(
            self.session,
            stream=stream,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            payload=payload,
            occur_time=occur_time,
        )
