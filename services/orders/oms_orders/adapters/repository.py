"""Persistence of orders: one row per order plus lines, allocations and history.

It stores and loads; it publishes nothing. The events a change caused are
returned by the Order's methods and published by the handler that saved it
(``order_events.publish``), in the same local transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    bindparam,
    cast,
    delete,
    insert,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters.order_rows import line_rows, order_from_rows, order_row
from oms_orders.adapters.orm import order_allocations, order_history, order_lines, orders
from oms_orders.domain.errors import ConcurrentModification, DuplicatePlatformOrder
from oms_orders.domain.order import Order
from oms_orders.domain.states import OrderState
from oms_orders.domain.values import Platform, StockAllocation

_l, _a, _h = order_lines.c, order_allocations.c, order_history.c


def _typed_null(column: Any) -> Any:
    return cast(null(), column.type)


# An order's lines, allocations and history in one statement (built once): one row
# per child, ``kind`` 0/1/2 in that order, each kind in its own order; the columns a
# kind does not have are NULL (typed, so both backends agree on the union's types).
_CHILDREN = union_all(
    select(
        literal_column("0", Integer).label("kind"),
        _l.line_no.label("no"),
        _l.sku.label("sku"),
        _l.quantity.label("quantity"),
        _l.unit_price_minor_units.label("unit_price_minor_units"),
        _l.currency.label("currency"),
        _l.title.label("title"),
        _typed_null(_a.warehouse_code).label("warehouse_code"),
        _typed_null(_h.from_state).label("from_state"),
        _typed_null(_h.to_state).label("to_state"),
        _typed_null(_h.time).label("time"),
        _typed_null(_h.reason).label("reason"),
        _typed_null(_h.actor).label("actor"),
    ).where(_l.order_id == bindparam("order_id")),
    select(
        literal_column("1", Integer),
        _a.seq,
        _a.sku,
        _a.quantity,
        _typed_null(_l.unit_price_minor_units),
        _typed_null(_l.currency),
        _typed_null(_l.title),
        _a.warehouse_code,
        _typed_null(_h.from_state),
        _typed_null(_h.to_state),
        _typed_null(_h.time),
        _typed_null(_h.reason),
        _typed_null(_h.actor),
    ).where(_a.order_id == bindparam("order_id")),
    select(
        literal_column("2", Integer),
        _h.seq,
        _typed_null(_l.sku),
        _typed_null(_l.quantity),
        _typed_null(_l.unit_price_minor_units),
        _typed_null(_l.currency),
        _typed_null(_l.title),
        _typed_null(_a.warehouse_code),
        _h.from_state,
        _h.to_state,
        _h.time,
        _h.reason,
        _h.actor,
    ).where(_h.order_id == bindparam("order_id")),
).order_by("kind", "no")


_o = orders.c
# The statements of every call, built once with bound parameters (see
# omslib.outbox.writer for why). The UPDATE writes every column of the row but two.
REFUND_COLUMNS = frozenset({"refunded_minor_units", "refund_frozen_minor_units"})
_INSERT_ORDER = insert(orders)
_INSERT_LINES = insert(order_lines)
_INSERT_ALLOCATIONS = insert(order_allocations)
_INSERT_HISTORY = insert(order_history)
_UPDATE_ORDER = (
    update(orders)
    .where(_o.order_id == bindparam("w_order_id"), _o.version == bindparam("w_version"))
    # Every column but the refund amounts: only the refund participant's conditional
    # updates write those (a save of a loaded order must not put old amounts back).
    .values({c.name: bindparam(f"v_{c.name}") for c in orders.c if c.name not in REFUND_COLUMNS})
)
_DELETE_ALLOCATIONS = delete(order_allocations).where(
    order_allocations.c.order_id == bindparam("order_id")
)
_SELECT_BY_ID = select(orders).where(_o.order_id == bindparam("order_id"))
_SELECT_BY_PLATFORM_REF = select(orders).where(
    _o.platform == bindparam("platform"), _o.platform_order_id == bindparam("platform_order_id")
)


class OrderRepository:
    """Loads and saves whole Order aggregates; saves check the version (optimistic lock)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # How many history entries each loaded order had, so saves only append.
        self._stored_history: dict[str, int] = {}
        # The allocations each loaded or saved order has in the database, so saves
        # rewrite them only when they changed.
        self._stored_allocations: dict[str, tuple[StockAllocation, ...]] = {}

    async def add(self, order: Order) -> None:
        order.version = 1
        try:
            await self._session.execute(_INSERT_ORDER, order_row(order))
        except IntegrityError as exc:
            raise DuplicatePlatformOrder(
                f"order {order.platform.value}/{order.platform_order_id} already exists",
                metadata={"platform_order_id": order.platform_order_id},
            ) from exc
        if order.lines:
            await self._session.execute(_INSERT_LINES, line_rows(order))
        await self._write_allocations(order)
        self._stored_allocations[order.order_id] = tuple(order.allocations)
        await self._append_history(order, 0)
        self._stored_history[order.order_id] = len(order.history)

    async def save(self, order: Order) -> None:
        """Write back a loaded order; ConcurrentModification if someone saved it meanwhile."""
        params = {f"v_{k}": v for k, v in order_row(order).items()}
        params.update(v_version=order.version + 1, w_order_id=order.order_id)
        params["w_version"] = order.version
        result = await self._session.execute(_UPDATE_ORDER, params)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentModification(
                f"order {order.order_id} was changed concurrently; retry",
                metadata={"order_id": order.order_id},
            )
        order.version += 1
        allocations = tuple(order.allocations)
        stored_allocations = self._stored_allocations.get(order.order_id)
        if allocations != stored_allocations:
            if stored_allocations != ():  # unknown (None) or some: delete what is there
                await self._session.execute(_DELETE_ALLOCATIONS, {"order_id": order.order_id})
            await self._write_allocations(order)
            self._stored_allocations[order.order_id] = allocations
        stored = self._stored_history.get(order.order_id, 0)
        await self._append_history(order, stored)
        self._stored_history[order.order_id] = len(order.history)

    async def due_for_payment_timeout(self, now: datetime, limit: int) -> list[str]:
        """Ids of unpaid orders whose payment deadline has passed, oldest deadline first."""
        rows = await self._session.execute(
            select(orders.c.order_id)
            .where(
                orders.c.state == OrderState.PENDING_PAYMENT.value,
                orders.c.payment_deadline <= now,
            )
            .order_by(orders.c.payment_deadline)
            .limit(limit)
        )
        return [str(r.order_id) for r in rows]

    async def get(self, order_id: str) -> Order | None:
        row = (await self._session.execute(_SELECT_BY_ID, {"order_id": order_id})).first()
        return await self._load(row) if row is not None else None

    async def get_by_platform_ref(self, platform: Platform, platform_order_id: str) -> Order | None:
        params = {"platform": platform.value, "platform_order_id": platform_order_id}
        row = (await self._session.execute(_SELECT_BY_PLATFORM_REF, params)).first()
        return await self._load(row) if row is not None else None

    async def page(
        self,
        *,
        states: Sequence[OrderState],
        platform: Platform | None,
        before_id: str | None,
        limit: int,
    ) -> list[Order]:
        """Newest first (ids are time-sortable), strictly older than ``before_id``."""
        query = select(orders).order_by(orders.c.order_id.desc()).limit(limit)
        if states:
            query = query.where(orders.c.state.in_([s.value for s in states]))
        if platform is not None:
            query = query.where(orders.c.platform == platform.value)
        if before_id is not None:
            query = query.where(orders.c.order_id < before_id)
        rows = (await self._session.execute(query)).all()
        return [await self._load(row) for row in rows]

    async def _write_allocations(self, order: Order) -> None:
        if order.allocations:
            await self._session.execute(
                _INSERT_ALLOCATIONS,
                [
                    {
                        "order_id": order.order_id,
                        "seq": i,
                        "sku": a.sku,
                        "warehouse_code": a.warehouse_code,
                        "quantity": a.quantity,
                    }
                    for i, a in enumerate(order.allocations)
                ],
            )

    async def _append_history(self, order: Order, already_stored: int) -> None:
        new = order.history[already_stored:]
        if not new:
            return
        await self._session.execute(
            _INSERT_HISTORY,
            [
                {
                    "order_id": order.order_id,
                    "seq": already_stored + i,
                    "from_state": t.from_state.value if t.from_state else None,
                    "to_state": t.to_state.value,
                    "time": t.time,
                    "reason": t.reason,
                    "actor": t.actor,
                }
                for i, t in enumerate(new)
            ],
        )

    async def _load(self, row: Row[Any]) -> Order:
        order_id = row.order_id
        lines: list[Row[Any]] = []
        allocations: list[Row[Any]] = []
        history: list[Row[Any]] = []
        by_kind = (lines, allocations, history)
        for child in await self._session.execute(_CHILDREN, {"order_id": order_id}):
            by_kind[child.kind].append(child)
        self._stored_history[order_id] = len(history)
        order = order_from_rows(row, lines, allocations, history)
        self._stored_allocations[order_id] = tuple(order.allocations)
        return order
