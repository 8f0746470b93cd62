"""What a change to an order caused, returned by the Order's methods.

Handlers publish these through the outbox in the same local transaction as
the change, and act on the stock effects (release, deduct, restock) through
the TCC coordinator.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from oms_orders.domain.values import Money


class StockEffect(enum.Enum):
    """What a move means for the units the order holds in inventory."""

    RELEASE = "RELEASE"  # unpaid: cancel the reservation (TCC Cancel)
    DEDUCT = "DEDUCT"  # paid: turn the reservation into a deduction (TCC Confirm)
    RESTOCK = "RESTOCK"  # paid, not shipped: the goods never left, put them back on hand


@dataclass(frozen=True)
class OrderAnnounced:
    """The order's stock reservation outcome is known: consumers hear of it (OrderCreated,
    then every later move)."""


@dataclass(frozen=True)
class StateChanged:
    """The order moved; ``index`` is the move's position in the order's history."""

    index: int


@dataclass(frozen=True)
class StockSettlement:
    """The order's stock must be settled with inventory (see :class:`StockEffect`)."""

    effect: StockEffect


@dataclass(frozen=True)
class RefundOwed:
    """A paid order ended before shipment: the buyer is owed ``amount``."""

    amount: Money


OrderEvent = OrderAnnounced | StateChanged | StockSettlement | RefundOwed
