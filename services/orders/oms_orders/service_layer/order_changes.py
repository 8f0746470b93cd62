"""Moving an order inside someone else's local transaction (the coordinator's hooks,
the Try's outcome): read it, apply one of its methods, save, publish what it returned."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters import order_events
from oms_orders.adapters.repository import OrderRepository
from oms_orders.domain.events import OrderEvent
from oms_orders.domain.order import Order


async def change_order(
    session: AsyncSession,
    order_id: str,
    change: Callable[[Order], list[OrderEvent]],
    *,
    always_save: bool = False,
) -> Order | None:
    """Apply ``change`` to the order as stored in ``session``; None when there is none.

    Saved (version-checked) when the change caused events, or always with
    ``always_save`` (a change that only annotates the order).
    """
    repo = OrderRepository(session)
    order = await repo.get(order_id)
    if order is None:
        return None
    events = change(order)
    if events or always_save:
        await repo.save(order)
        await order_events.publish(session, order, events)
    return order
