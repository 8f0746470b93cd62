"""Orders as a participant of the refund TCC (aftersales coordinates).

Try freezes the amount on the order (checked against what is still refundable
in one conditional update), Confirm records it as refunded, Cancel releases
it. Each is guarded by the participant barrier in the same local transaction
as the change: repeats answer as before, a Cancel before its Try is an empty
compensation, and a Try after its Cancel is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from omslib.clock import Clock
from omslib.tcc import Barrier, Guard

from oms_orders.adapters.orm import tcc_barrier
from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.domain.errors import OrderNotFound
from oms_orders.domain.refunds import (
    FreezeAfterCancel,
    FreezeAlreadyRefunded,
    FreezeNotFound,
    FreezeState,
    RefundExceedsRefundable,
    RefundFreeze,
    check_refund_amount,
)
from oms_orders.domain.values import Money

BARRIER = Barrier(tcc_barrier)


class RefundFreezes:
    def __init__(self, uow: Callable[[], OrdersUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def try_freeze(self, gid: str, branch_id: str, order_id: str, amount: Money) -> Money:
        """Freeze ``amount`` on the order; what is still refundable after it."""
        now = self._clock.now()
        async with self._uow() as uow:
            guard = await BARRIER.guard_try(uow.session, gid, branch_id, now=now)
            if guard is Guard.REFUSED:
                raise FreezeAfterCancel(
                    f"refund {gid}/{branch_id} was cancelled before its freeze arrived",
                    metadata={"gid": gid, "branch_id": branch_id},
                )
            order = await uow.orders.get(order_id)
            if order is None:
                raise OrderNotFound(f"order {order_id} not found", metadata={"order_id": order_id})
            if guard is Guard.PROCEED:
                check_refund_amount(amount, order.payment.amount if order.payment else None)
                freeze = RefundFreeze(
                    gid, branch_id, order_id, amount, FreezeState.FROZEN, now, now
                )
                if not await uow.refunds.freeze(freeze):
                    refundable = order.refundable
                    units = refundable.minor_units if refundable else 0
                    raise RefundExceedsRefundable(
                        f"the refund of {amount.minor_units} {amount.currency} exceeds what "
                        f"order {order_id} can still refund ({units} {amount.currency})",
                        metadata={"refundable": str(units), "currency": amount.currency},
                    )
                await uow.commit()
                order = await uow.orders.get(order_id)
                assert order is not None
        left = order.refundable
        assert left is not None
        return left

    async def confirm(self, gid: str, branch_id: str) -> RefundFreeze | None:
        """Record the frozen amount as refunded; the freeze, or None for a repeat."""
        return await self._settle(gid, branch_id, FreezeState.REFUNDED)

    async def cancel(self, gid: str, branch_id: str) -> None:
        """Release the frozen amount (nothing, for a Cancel that came before its Try)."""
        await self._settle(gid, branch_id, FreezeState.RELEASED)

    async def _settle(self, gid: str, branch_id: str, to: FreezeState) -> RefundFreeze | None:
        now: datetime = self._clock.now()
        async with self._uow() as uow:
            if to is FreezeState.REFUNDED:
                guard = await BARRIER.guard_confirm(uow.session, gid, branch_id, now=now)
            else:
                guard = await BARRIER.guard_cancel(uow.session, gid, branch_id, now=now)
            if guard is Guard.REFUSED:
                raise _refused(gid, branch_id, to)
            if guard is not Guard.PROCEED:
                await uow.commit()  # EMPTY: the barrier's markers
                return None
            freeze = await uow.refunds.get(gid, branch_id)
            if freeze is None:  # tried but refused (nothing frozen): nothing to settle
                await uow.commit()
                return None
            await uow.refunds.settle(freeze, to, now)
            freeze = replace(freeze, state=to, update_time=now)
            if to is FreezeState.REFUNDED:
                order = await uow.orders.get(freeze.order_id)
                assert order is not None
                await uow.publish_refund(order, freeze)
            await uow.commit()
        return freeze


def _refused(gid: str, branch_id: str, to: FreezeState) -> FreezeNotFound | FreezeAlreadyRefunded:
    where = {"gid": gid, "branch_id": branch_id}
    if to is FreezeState.REFUNDED:
        return FreezeNotFound(
            f"refund {gid}/{branch_id} cannot be recorded: it was released or never frozen",
            metadata=where,
        )
    return FreezeAlreadyRefunded(
        f"refund {gid}/{branch_id} cannot be released: it was recorded", metadata=where
    )
