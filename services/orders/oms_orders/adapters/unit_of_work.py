"""The orders unit of work: omslib's session handling plus this service's repositories."""

from __future__ import annotations

from typing import Self

from omslib.db import UnitOfWork

from oms_orders.adapters.repository import OrderRepository
from oms_orders.adapters.request_log import RequestLog
from oms_orders.adapters.tcc_repository import TransactionRepository


class OrdersUnitOfWork(UnitOfWork):
    """``async with uow:`` gives ``uow.orders``, ``uow.transactions`` and ``uow.requests``."""

    orders: OrderRepository
    transactions: TransactionRepository
    requests: RequestLog

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.orders = OrderRepository(self.session)
        self.transactions = TransactionRepository(self.session)
        self.requests = RequestLog(self.session)
        return self
