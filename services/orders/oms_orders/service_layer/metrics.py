"""GetFlowMetrics: time spent between states, from the stored transition history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from oms_orders.adapters import flow_queries
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


#: The window GetFlowMetrics reports on when the caller names none.
DEFAULT_WINDOW = timedelta(hours=24)


async def flow_metrics(
    uow: Callable[[], OrdersUnitOfWork],
    *,
    since: datetime | None,
    platform: Platform | None,
    now: datetime,
) -> tuple[list[StageMetric], dict[str, int]]:
    """Per stage (from -> to): count, mean, p50, p95 of the moves since ``since`` (default:
    the last 24 hours), and how many orders are open in each state now."""
    since = since if since is not None else now - DEFAULT_WINDOW
    async with uow() as u:
        moves = await flow_queries.moves_since(u.session, since, platform)
        counts = await flow_queries.open_counts(u.session, platform)
    durations: dict[tuple[OrderState, OrderState], list[timedelta]] = defaultdict(list)
    for move in moves:
        stage = (OrderState(move.from_state), OrderState(move.to_state))
        durations[stage].append(move.left - move.entered)
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
