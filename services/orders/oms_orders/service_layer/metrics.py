"""GetFlowMetrics: time spent between states, from the stored transition history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from oms_orders.adapters.orm import order_history, orders
from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.domain.states import FINAL_STATES, OrderState
from oms_orders.domain.values import Platform


@dataclass(frozen=True)
class StageMetric:
    from_state: OrderState
    to_state: OrderState
    count: int
    mean: timedelta
    p50: timedelta
    p95: timedelta


FLOW_ORDER = list(OrderState)


async def flow_metrics(
    uow: Callable[[], OrdersUnitOfWork], *, since: datetime | None, platform: Platform | None
) -> tuple[list[StageMetric], dict[str, int]]:
    h, o = order_history.c, orders.c
    query = (
        sa.select(h.order_id, h.seq, h.from_state, h.to_state, h.time)
        .select_from(order_history.join(orders, orders.c.order_id == h.order_id))
        .order_by(h.order_id, h.seq)
    )
    if platform is not None:
        query = query.where(o.platform == platform.value)
    open_query = sa.select(o.state, sa.func.count()).group_by(o.state)
    if platform is not None:
        open_query = open_query.where(o.platform == platform.value)
    async with uow() as u:
        rows = (await u.session.execute(query)).all()
        counts = (await u.session.execute(open_query)).all()
    durations: dict[tuple[OrderState, OrderState], list[timedelta]] = defaultdict(list)
    previous: dict[str, datetime] = {}
    for row in rows:
        entered = previous.get(row.order_id)
        previous[row.order_id] = row.time
        if entered is None or row.from_state is None:
            continue
        if since is not None and row.time < since:
            continue
        durations[(OrderState(row.from_state), OrderState(row.to_state))].append(row.time - entered)
    stages = []
    for (a, b), values in sorted(
        durations.items(), key=lambda kv: (FLOW_ORDER.index(kv[0][0]), FLOW_ORDER.index(kv[0][1]))
    ):
        values.sort()
        total = sum(values, timedelta())
        stages.append(
            StageMetric(
                a,
                b,
                len(values),
                total / len(values),
                values[(len(values) - 1) // 2],
                values[min(len(values) - 1, round(0.95 * (len(values) - 1)))],
            )
        )
    open_by_state = {
        str(state): int(n) for state, n in counts if OrderState(state) not in FINAL_STATES
    }
    return stages, open_by_state
