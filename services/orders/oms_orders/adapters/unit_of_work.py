"""The orders unit of work: omslib's session handling plus this service's repositories."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from google.protobuf.message import Message
from oms.events.v1.envelope_pb2 import EventEnvelope
from omslib.db import UnitOfWork

from oms_orders.adapters import order_events
from oms_orders.adapters.repository import OrderRepository
from oms_orders.adapters.request_log import RequestLog
from oms_orders.adapters.tcc_repository import TransactionRepository


class OrdersUnitOfWork(UnitOfWork):
    """``async with uow:`` gives ``uow.orders``, ``uow.transactions`` and ``uow.requests``.

    Order events are written by ``uow.orders`` itself; ``emit`` is for any other
    event. Either way the relay is woken after ``commit()`` by the session's
    after-commit hook (``order_events.wake_relay_after_commit``), not here, so
    the coordinator's own sessions get the same prompt delivery.
    """

    orders: OrderRepository
    transactions: TransactionRepository
    requests: RequestLog

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.orders = OrderRepository(self.session)
        self.transactions = TransactionRepository(self.session)
        self.requests = RequestLog(self.session)
        return self

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
