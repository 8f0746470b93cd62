"""The SQL behind GetFlowMetrics: each move with the time its previous move happened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters.orm import order_history, orders
from oms_orders.domain.values import Platform

_entered = order_history.alias("entered")
_h, _e, _o = order_history.c, _entered.c, orders.c


async def moves_since(
    session: AsyncSession, since: datetime, platform: Platform | None
) -> Sequence[Any]:
    """(from_state, to_state, entered, left) of every move at or after ``since``."""
    query = (
        sa.select(_h.from_state, _h.to_state, _e.time.label("entered"), _h.time.label("left"))
        .select_from(
            order_history.join(
                _entered, sa.and_(_e.order_id == _h.order_id, _e.seq == _h.seq - 1)
            ).join(orders, _o.order_id == _h.order_id)
        )
        .where(_h.time >= since)
    )
    if platform is not None:
        query = query.where(_o.platform == platform.value)
    return (await session.execute(query)).all()


async def open_counts(session: AsyncSession, platform: Platform | None) -> Sequence[Any]:
    """(state, count) of every state orders are in now."""
    query = sa.select(_o.state, sa.func.count()).group_by(_o.state)
    if platform is not None:
        query = query.where(_o.platform == platform.value)
    return (await session.execute(query)).all()
