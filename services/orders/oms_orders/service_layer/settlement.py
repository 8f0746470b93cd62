"""How an order's stock effects become TCC decisions, logged with the order's change.

Each effect is logged in the same local transaction as the order's move, so
a crash can never leave the order moved and its stock unsettled: the
coordinator's recovery loop finishes whatever was logged.

- DEDUCT: the place transaction is decided CONFIRMING (inventory deducts).
- RELEASE: the place transaction is decided CANCELLING (inventory releases).
- RESTOCK: a one-phase ``order.restock`` transaction is logged CONFIRMING;
  its branch, named by the place transaction's gid, puts the deducted units
  back on hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from omslib.ids import new_id
from omslib.tcc import Coordinator, GlobalTransaction, InvalidTransactionMove, TransactionState
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.domain.errors import ReservationPending
from oms_orders.domain.events import OrderEvent, StockEffect, StockSettlement
from oms_orders.domain.order import Order
from oms_orders.domain.tcc import INVENTORY_RESTOCK, ORDER_RESTOCK

T = TransactionState


class Settlement:
    def __init__(self, coordinator: Coordinator) -> None:
        self._coordinator = coordinator

    async def log(
        self, session: AsyncSession, order: Order, events: Sequence[OrderEvent]
    ) -> list[GlobalTransaction]:
        """Log the decisions ``events`` call for in ``session``; the transactions to drive
        once the caller has committed (none when already decided the same way)."""
        to_drive = []
        for event in events:
            if not isinstance(event, StockSettlement):
                continue
            tx = await self._log_one(session, order, event.effect)
            if tx is not None:
                to_drive.append(tx)
        return to_drive

    async def drive(self, transactions: Sequence[GlobalTransaction]) -> None:
        """Run the logged rounds now; what fails is retried by the recovery loop."""
        for tx in transactions:
            await self._coordinator.drive(tx)

    async def _log_one(
        self, session: AsyncSession, order: Order, effect: StockEffect
    ) -> GlobalTransaction | None:
        if effect is StockEffect.RESTOCK:
            return await self._coordinator.begin_action(
                session,
                new_id(),
                kind=ORDER_RESTOCK,
                subject=order.name,
                branches=[(order.gid, INVENTORY_RESTOCK)],
            )
        target = T.CONFIRMING if effect is StockEffect.DEDUCT else T.CANCELLING
        try:
            tx, started = await self._coordinator.decide(session, order.gid, target)
        except InvalidTransactionMove as move:
            if move.metadata.get("current") == T.TRYING.value:
                # Paid while its Try is still out (or its outcome unknown): it will answer.
                raise ReservationPending(
                    f"the stock reservation of order {order.order_id} has not answered yet; "
                    "retry shortly",
                    metadata={"order_id": order.order_id},
                ) from move
            raise
        return tx if started else None
