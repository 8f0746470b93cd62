"""What every use case gets from the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from omslib.clock import Clock
from omslib.ids import new_id

from oms_inventory.adapters.unit_of_work import InventoryUnitOfWork
from oms_inventory.service_layer.tracing import current_trace_id

# How often a use case re-reads and re-plans after a conditional update lost a race.
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Deps:
    uow: Callable[[], InventoryUnitOfWork]
    clock: Clock
    new_id: Callable[[], str] = field(default=new_id)
    trace_id: Callable[[], str] = field(default=current_trace_id)
