"""Read-side use cases: orders and coordinator transactions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from omslib.clock import Clock

from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.domain.errors import InvalidRequest, OrderNotFound, TransactionNotFound
from oms_orders.domain.names import OrderIdName, parse_order_name
from oms_orders.domain.order import Order
from oms_orders.domain.states import OrderState
from oms_orders.domain.tcc import GlobalTransaction, TransactionState
from oms_orders.domain.values import Platform
from oms_orders.service_layer import metrics
from oms_orders.service_layer.metrics import StageMetric
from oms_orders.service_layer.paging import decode_token, encode_token, page_size

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str


class OrderQueries:
    def __init__(self, uow: Callable[[], OrdersUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def flow_metrics(
        self, *, since: datetime | None, platform: Platform | None
    ) -> tuple[list[StageMetric], dict[str, int]]:
        """Stage durations since ``since`` (default: the last 24 hours) and open orders."""
        return await metrics.flow_metrics(
            self._uow, since=since, platform=platform, now=self._clock.now()
        )

    async def get_order(self, name: str) -> Order:
        parsed = parse_order_name(name)
        async with self._uow() as uow:
            if isinstance(parsed, OrderIdName):
                order = await uow.orders.get(parsed.order_id)
            else:
                order = await uow.orders.get_by_platform_ref(
                    parsed.platform, parsed.platform_order_id
                )
        if order is None:
            raise OrderNotFound(f"order {name!r} not found", metadata={"name": name})
        return order

    async def order_id(self, name: str) -> str:
        """The order id a name designates; "orders/{id}" is answered without a read (the
        use case that follows loads the order and answers ORDER_NOT_FOUND itself)."""
        parsed = parse_order_name(name)
        if isinstance(parsed, OrderIdName):
            return parsed.order_id
        return (await self.get_order(name)).order_id

    async def list_orders(
        self,
        *,
        states: Sequence[OrderState],
        platform: Platform | None,
        size: int,
        token: str,
    ) -> Page[Order]:
        limit = page_size(size)
        before = decode_token(token)
        async with self._uow() as uow:
            found = await uow.orders.page(
                states=states, platform=platform, before_id=before, limit=limit + 1
            )
        items = found[:limit]
        more = len(found) > limit
        return Page(items, encode_token(items[-1].order_id) if more else "")

    async def get_transaction(self, gid: str) -> GlobalTransaction:
        if not gid:
            raise InvalidRequest("gid must not be empty", metadata={"field": "gid"})
        async with self._uow() as uow:
            tx = await uow.transactions.get(gid)
        if tx is None:
            raise TransactionNotFound(f"transaction {gid!r} not found", metadata={"gid": gid})
        return tx

    async def list_transactions(
        self, *, states: Sequence[TransactionState], size: int, token: str
    ) -> Page[GlobalTransaction]:
        limit = page_size(size)
        before = decode_token(token)
        async with self._uow() as uow:
            found = await uow.transactions.page(states=states, before_gid=before, limit=limit + 1)
        items = found[:limit]
        more = len(found) > limit
        return Page(items, encode_token(items[-1].gid) if more else "")
