"""Persistence of refund freezes, and the conditional updates that move an order's
refund amounts (the only writes to those columns)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters.orm import orders, refund_freezes
from oms_orders.domain.refunds import FreezeState, RefundFreeze
from oms_orders.domain.values import Money

_o, _f = orders.c, refund_freezes.c

# The refundable amount (paid - refunded - frozen) must cover the freeze: checked and
# taken in this one statement, so two concurrent freezes cannot both pass. The version
# moves too, so an Order loaded before this write cannot be saved over it.
_FREEZE = (
    sa.update(orders)
    .where(
        _o.order_id == sa.bindparam("w_order_id"),
        _o.paid_minor_units.is_not(None),
        _o.paid_minor_units - _o.refunded_minor_units - _o.refund_frozen_minor_units
        >= sa.bindparam("amount"),
    )
    .values(
        refund_frozen_minor_units=_o.refund_frozen_minor_units + sa.bindparam("amount"),
        version=_o.version + 1,
    )
)
_RECORD = (
    sa.update(orders)
    .where(_o.order_id == sa.bindparam("w_order_id"))
    .values(
        refund_frozen_minor_units=_o.refund_frozen_minor_units - sa.bindparam("amount"),
        refunded_minor_units=_o.refunded_minor_units + sa.bindparam("amount"),
        version=_o.version + 1,
    )
)
_RELEASE = (
    sa.update(orders)
    .where(_o.order_id == sa.bindparam("w_order_id"))
    .values(
        refund_frozen_minor_units=_o.refund_frozen_minor_units - sa.bindparam("amount"),
        version=_o.version + 1,
    )
)


class RefundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def freeze(self, freeze: RefundFreeze) -> bool:
        """Freeze ``freeze.amount`` on its order if it is still refundable; False if not."""
        result = await self._session.execute(
            _FREEZE, {"w_order_id": freeze.order_id, "amount": freeze.amount.minor_units}
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        await self._session.execute(
            sa.insert(refund_freezes).values(
                gid=freeze.gid,
                branch_id=freeze.branch_id,
                order_id=freeze.order_id,
                amount_minor_units=freeze.amount.minor_units,
                currency=freeze.amount.currency,
                state=freeze.state.value,
                create_time=freeze.create_time,
                update_time=freeze.update_time,
            )
        )
        return True

    async def get(self, gid: str, branch_id: str) -> RefundFreeze | None:
        row = (
            await self._session.execute(
                sa.select(refund_freezes).where(_f.gid == gid, _f.branch_id == branch_id)
            )
        ).first()
        if row is None:
            return None
        return RefundFreeze(
            row.gid,
            row.branch_id,
            row.order_id,
            Money(row.amount_minor_units, row.currency),
            FreezeState(row.state),
            row.create_time,
            row.update_time,
        )

    async def settle(self, freeze: RefundFreeze, to: FreezeState, now: datetime) -> bool:
        """FROZEN -> REFUNDED or RELEASED, moving the order's amounts; False if not FROZEN."""
        moved = await self._session.execute(
            sa.update(refund_freezes)
            .where(
                _f.gid == freeze.gid,
                _f.branch_id == freeze.branch_id,
                _f.state == FreezeState.FROZEN.value,
            )
            .values(state=to.value, update_time=now)
        )
        if getattr(moved, "rowcount", 0) != 1:
            return False
        statement = _RECORD if to is FreezeState.REFUNDED else _RELEASE
        await self._session.execute(
            statement, {"w_order_id": freeze.order_id, "amount": freeze.amount.minor_units}
        )
        return True
