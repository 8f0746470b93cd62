"""The local transactions that record each step of the order-placing TCC transaction.

Each method is one unit of work that reloads what it changes, so it never
overwrites a concurrent change with a stale copy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime

from omslib.clock import Clock

from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.domain.errors import ConcurrentModification, TransactionNotFound, TryAbandoned
from oms_orders.domain.order import Order
from oms_orders.domain.sync import ProcessedRequest, SyncOutcome
from oms_orders.domain.tcc import BranchState, GlobalTransaction, TransactionState
from oms_orders.domain.values import StockAllocation


class TccSteps:
    def __init__(
        self,
        uow: Callable[[], OrdersUnitOfWork],
        clock: Clock,
        lease: Callable[[GlobalTransaction, datetime], None] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        # Marks a transaction this process will drive at once (the coordinator's lease).
        self._lease = lease or (lambda tx, now: None)

    async def tried(
        self,
        request_id: str,
        order_id: str,
        branch_id: str,
        allocations: list[StockAllocation],
        *,
        logged: GlobalTransaction | None = None,
    ) -> Order:
        """Try succeeded: keep the allocations; the transaction waits for payment.

        ``logged``: the transaction as this process logged it before the Try. Its
        save is conditional on that version, so it need not be read again; if it
        changed meanwhile (recovery, a concurrent delivery), the step is decided
        again from what is stored.
        """
        if logged is not None and logged.state is TransactionState.TRYING:
            try:
                return await self._tried(
                    request_id, order_id, branch_id, allocations, copy.deepcopy(logged)
                )
            except ConcurrentModification:
                pass  # the log or the order moved since: decide from what is stored now
        return await self._tried(request_id, order_id, branch_id, allocations, None)

    async def _tried(
        self,
        request_id: str,
        order_id: str,
        branch_id: str,
        allocations: list[StockAllocation],
        logged: GlobalTransaction | None,
    ) -> Order:
        now = self._clock.now()
        async with self._uow() as uow:
            if logged is not None:
                order = await uow.orders.get(order_id)
                if order is None:
                    raise _abandoned(order_id)
                tx = logged
            else:
                order, tx = await _still_trying(uow, order_id)
            if tx.state is TransactionState.TRIED:
                # A concurrent delivery of the same push finished this Try first.
                if await uow.requests.get(request_id) is None:
                    await uow.requests.record(
                        ProcessedRequest(request_id, order_id, SyncOutcome.CREATED, now)
                    )
                    await uow.commit()
                return order
            order.reserved(allocations, at=now)
            tx.branch(branch_id).move_to(BranchState.TRIED, at=now)
            tx.move_to(TransactionState.TRIED, at=now, next_attempt=order.payment_deadline)
            await uow.orders.save(order)
            await uow.transactions.save(tx)  # version-checked: ConcurrentModification
            await uow.requests.record(
                ProcessedRequest(request_id, order_id, SyncOutcome.CREATED, now)
            )
            await uow.commit()
        return order

    async def try_refused(
        self, request_id: str, order_id: str, branch_id: str, reason_code: str, explanation: str
    ) -> Order:
        """Try refused for a business reason: reject the order, start cancelling."""
        now = self._clock.now()
        async with self._uow() as uow:
            order, tx = await _still_trying(uow, order_id)
            if tx.state is not TransactionState.TRYING:
                raise _abandoned(order_id)
            order.reject(reason_code, explanation, at=now)
            tx.branch(branch_id).move_to(
                BranchState.TRY_FAILED, at=now, error=f"{reason_code}: {explanation}"
            )
            tx.move_to(TransactionState.CANCELLING, at=now, next_attempt=now, reason=explanation)
            self._lease(tx, now)
            await uow.orders.save(order)
            await uow.transactions.save(tx)
            await uow.requests.record(
                ProcessedRequest(request_id, order_id, SyncOutcome.REJECTED, now)
            )
            await uow.commit()
        return order

    async def try_unknown(self, order_id: str, gid: str, branch_id: str, error: str) -> None:
        """Try outcome unknown: drop the order (the push is retried) and start cancelling."""
        now = self._clock.now()
        async with self._uow() as uow:
            tx = await _transaction(uow, gid)
            tx.branch(branch_id).last_error = error
            tx.move_to(
                TransactionState.CANCELLING,
                at=now,
                next_attempt=now,
                reason=f"try outcome unknown: {error}",
            )
            self._lease(tx, now)
            await uow.orders.remove(order_id)
            await uow.transactions.save(tx)
            await uow.commit()

    async def cancelled(self, gid: str, branch_id: str) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            tx = await _transaction(uow, gid)
            tx.branch(branch_id).move_to(BranchState.CANCELLED, at=now)
            tx.move_to(TransactionState.CANCELLED, at=now)
            await uow.transactions.save(tx)
            await uow.commit()

    async def cancel_failed(self, gid: str, branch_id: str, error: str) -> None:
        """Leave the transaction CANCELLING for the recovery loop, counting the attempt."""
        now = self._clock.now()
        async with self._uow() as uow:
            tx = await _transaction(uow, gid)
            branch = tx.branch(branch_id)
            branch.attempts += 1
            branch.last_error = error
            branch.update_time = now
            tx.update_time = now
            await uow.transactions.save(tx)
            await uow.commit()


async def _still_trying(uow: OrdersUnitOfWork, order_id: str) -> tuple[Order, GlobalTransaction]:
    """The order whose Try just answered and its transaction (read once), unless
    recovery abandoned that Try meanwhile.

    A Try slower than the recovery loop's patience is cancelled by it and the
    order dropped; the caller must then retry the push rather than see NOT_FOUND.
    """
    order = await uow.orders.get(order_id)
    if order is None:
        raise _abandoned(order_id)
    tx = await _transaction(uow, order.gid)
    if tx.state not in (TransactionState.TRYING, TransactionState.TRIED):
        raise _abandoned(order_id)
    return order, tx


def _abandoned(order_id: str) -> TryAbandoned:
    return TryAbandoned(
        f"the stock reservation for order {order_id} took too long and was cancelled by "
        "the recovery loop; nothing was kept, retry the push with the same request id",
        metadata={"order_id": order_id},
    )


async def _transaction(uow: OrdersUnitOfWork, gid: str) -> GlobalTransaction:
    tx = await uow.transactions.get(gid)
    if tx is None:
        raise TransactionNotFound(f"transaction {gid} not found", metadata={"gid": gid})
    return tx
