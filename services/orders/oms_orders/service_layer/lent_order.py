"""The order a call already holds, lent to the coordinator's hooks of the same call.

A handler commits an order's change with its TCC decision, then drives the round
in the same task; the round's local transaction moves the same order again
(``tcc_completion``, or the Try's outcome in ``sync_platform_order``). Lending
them the order as just committed saves reading it back. Nothing is trusted
blindly: the save is conditional on the order's version, so an order changed
meanwhile (by another replica) is read fresh and the change applied to that.

The loan lives in a context variable, so only code running in the lending
call's task (the coordinator awaited by the handler) sees it; the recovery loop
and other calls read the order as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters import order_events
from oms_orders.adapters.repository import OrderRepository
from oms_orders.domain.errors import ConcurrentModification
from oms_orders.domain.events import OrderEvent
from oms_orders.domain.order import Order


@dataclass
class Loan:
    """The order as this call last committed or saved it."""

    order: Order


_LOAN: ContextVar[Loan | None] = ContextVar("oms_orders_lent_order", default=None)


@contextmanager
def lend(order: Order) -> Iterator[Loan]:
    """Lend ``order`` (as just committed) to the hooks run inside this block."""
    loan = Loan(order)
    token = _LOAN.set(loan)
    try:
        yield loan
    finally:
        _LOAN.reset(token)


async def change_order(
    session: AsyncSession,
    order_id: str,
    change: Callable[[Order], list[OrderEvent]],
    *,
    always_save: bool = False,
) -> Order | None:
    """Apply ``change`` to the order in ``session`` and publish what it returned.

    The lent order is used when there is one; if it turns out stale (its
    conditional save changes nothing) the order is read and the change applied
    again. None when there is no such order.
    """
    repo = OrderRepository(session)
    loan = _LOAN.get()
    if loan is not None and loan.order.order_id == order_id:
        order = loan.order
        repo.adopt(order)
        try:
            return await _apply(session, repo, order, change, always_save, loan)
        except ConcurrentModification:
            pass  # changed since it was lent: read it again below
    fresh = await repo.get(order_id)
    if fresh is None:
        return None
    return await _apply(session, repo, fresh, change, always_save, loan)


async def _apply(
    session: AsyncSession,
    repo: OrderRepository,
    order: Order,
    change: Callable[[Order], list[OrderEvent]],
    always_save: bool,
    loan: Loan | None,
) -> Order:
    events = change(order)
    if events or always_save:
        await repo.save(order)
        await order_events.publish(session, order, events)
    if loan is not None and loan.order.order_id == order.order_id:
        loan.order = order
    return order
