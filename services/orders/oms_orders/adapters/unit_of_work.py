"""The orders unit of work: omslib's outbox unit of work plus this service's repositories."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Self

from google.protobuf.message import Message
from oms.events.v1.envelope_pb2 import EventEnvelope
from omslib.outbox import OutboxNotifier, OutboxUnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_orders.adapters import order_events, orm
from oms_orders.adapters.refund_repository import RefundRepository
from oms_orders.adapters.repository import OrderRepository
from oms_orders.adapters.request_log import RequestLog
from oms_orders.adapters.tcc_repository import TransactionRepository
from oms_orders.domain.events import OrderEvent
from oms_orders.domain.order import Order
from oms_orders.domain.refunds import RefundFreeze


class OrdersUnitOfWork(OutboxUnitOfWork):
    """``async with uow:`` gives ``uow.orders``, ``uow.transactions`` and ``uow.requests``.

    ``publish`` writes what an order's change caused, ``emit`` any other event;
    ``commit()`` then wakes the relay (``OutboxUnitOfWork``). The TCC coordinator's
    hooks that ``decide`` runs in this session write into a transaction that already
    carries the order's own move (every stock effect comes with one), so the same
    commit wakes the relay for them.
    """

    orders: OrderRepository
    transactions: TransactionRepository
    requests: RequestLog
    refunds: RefundRepository

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], notifier: OutboxNotifier | None = None
    ) -> None:
        super().__init__(sessions, orm.outbox, notifier)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.orders = OrderRepository(self.session)
        self.transactions = TransactionRepository(self.session)
        self.requests = RequestLog(self.session)
        self.refunds = RefundRepository(self.session)
        return self

    async def publish(self, order: Order, events: Sequence[OrderEvent]) -> None:
        """Write the events of ``order``'s change in this unit of work's transaction."""
        await self._write(order_events.caused_by(order, events))

    async def publish_refund(self, order: Order, freeze: RefundFreeze) -> None:
        """OrderRefunded for ``freeze``, recorded on ``order`` in this transaction."""
        await self._write([order_events.order_refunded(order, freeze)])

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
        outgoing = order_events.event(
            stream,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            payload=payload,
            occur_time=occur_time,
        )
        await self._write([outgoing])
        return outgoing[1]

    async def _write(self, outgoing: Iterable[order_events.Outgoing]) -> None:
        for stream, envelope in outgoing:
            await self.add_event(stream=stream, envelope=envelope)
