"""Refund rows, their audit trail and the platform refund ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from omslib.db.inserts import insert_if_absent
from omslib.errors import Aborted
from sqlalchemy.ext.asyncio import AsyncSession

from oms_aftersales.adapters import orm
from oms_aftersales.domain.errors import InvalidPageToken
from oms_aftersales.domain.refund import (
    PAYOUT_API,
    Move,
    Refund,
    RefundState,
    ReturnLine,
)

R = orm.refunds.c


class ConcurrentRefundChange(Aborted):
    reason = "REFUND_CHANGED_CONCURRENTLY"


@dataclass(frozen=True)
class AuditRow:
    from_state: str
    to_state: str
    actor: str
    note: str
    at: datetime


def _to_row(r: Refund) -> dict[str, Any]:
    return {
        "refund_id": r.refund_id,
        "request_id": r.request_id,
        "order_id": r.order_id,
        "ticket_id": r.ticket_id,
        "platform": r.platform,
        "currency": r.currency,
        "amount": r.amount,
        "shipping": r.shipping,
        "return_lines": [[x.sku, x.quantity, x.warehouse_code] for x in r.return_lines],
        "state": r.state.value,
        "state_reason": r.state_reason,
        "gid": r.gid,
        "reservation_gid": r.reservation_gid,
        "payment_reference": r.payment_reference,
        "shipped": r.shipped,
        "payout_path": r.payout_path,
        "payout_reference": r.payout_reference,
        "payout_attempts": r.payout_attempts,
        "payout_due_at": r.payout_due_at,
        "differences": list(r.differences),
        "reason": r.reason,
        "approved_by": r.approved_by,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "refunded_at": r.refunded_at,
        "version": r.version,
    }


def _from_row(row: Any) -> Refund:
    return Refund(
        refund_id=row.refund_id,
        request_id=row.request_id,
        order_id=row.order_id,
        ticket_id=row.ticket_id,
        platform=row.platform,
        currency=row.currency,
        amount=int(row.amount),
        shipping=int(row.shipping),
        return_lines=[ReturnLine(s, int(q), w) for s, q, w in row.return_lines],
        gid=row.gid,
        reservation_gid=row.reservation_gid,
        payment_reference=row.payment_reference,
        shipped=bool(row.shipped),
        created_at=row.created_at,
        updated_at=row.updated_at,
        state=RefundState(row.state),
        state_reason=row.state_reason,
        payout_reference=row.payout_reference,
        payout_attempts=int(row.payout_attempts),
        payout_due_at=row.payout_due_at,
        differences=list(row.differences),
        reason=row.reason,
        approved_by=row.approved_by,
        refunded_at=row.refunded_at,
        version=int(row.version),
    )


class RefundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, refund: Refund) -> bool:
        """Insert; False when the request_id was taken meanwhile (a concurrent duplicate)."""
        return await insert_if_absent(self._s, orm.refunds, _to_row(refund), on=("request_id",))

    async def get(self, refund_id: str) -> Refund | None:
        row = (
            await self._s.execute(sa.select(orm.refunds).where(R.refund_id == refund_id))
        ).first()
        return _from_row(row) if row else None

    async def by_gid(self, gid: str) -> Refund | None:
        row = (await self._s.execute(sa.select(orm.refunds).where(R.gid == gid))).first()
        return _from_row(row) if row else None

    async def by_request(self, request_id: str) -> Refund | None:
        row = (
            await self._s.execute(sa.select(orm.refunds).where(R.request_id == request_id))
        ).first()
        return _from_row(row) if row else None

    async def save(self, refund: Refund) -> None:
        """Write the refund if nobody changed it since it was read (optimistic version)."""
        values = _to_row(refund)
        values["version"] = refund.version + 1
        result = await self._s.execute(
            sa.update(orm.refunds)
            .where(R.refund_id == refund.refund_id, R.version == refund.version)
            .values(**values)
        )
        if not getattr(result, "rowcount", 0):
            raise ConcurrentRefundChange(
                f"refund {refund.refund_id} changed meanwhile; retry",
                metadata={"refund_id": refund.refund_id},
            )
        refund.version += 1

    async def audit(self, refund_id: str, move: Move, trace_id: str, at: datetime) -> None:
        await self._s.execute(
            sa.insert(orm.refund_audit).values(
                refund_id=refund_id,
                from_state=move.before.value,
                to_state=move.after.value,
                actor=move.actor,
                note=move.note,
                trace_id=trace_id,
                created_at=at,
            )
        )

    async def audit_trail(self, refund_id: str) -> list[AuditRow]:
        c = orm.refund_audit.c
        rows = await self._s.execute(
            sa.select(orm.refund_audit).where(c.refund_id == refund_id).order_by(c.id)
        )
        return [AuditRow(r.from_state, r.to_state, r.actor, r.note, r.created_at) for r in rows]

    async def open_for_platform_refund(self, order_id: str, total: int) -> Refund | None:
        """The oldest refund of the order not yet paid whose total is ``total``."""
        waiting = [s.value for s in RefundState if s not in _CLOSED]
        rows = await self._s.execute(
            sa.select(orm.refunds)
            .where(R.order_id == order_id, R.state.in_(waiting), (R.amount + R.shipping) == total)
            .order_by(R.created_at, R.refund_id)
            .limit(1)
        )
        row = rows.first()
        return _from_row(row) if row else None

    async def due_payouts(self, now: datetime, limit: int, *, path: str = PAYOUT_API) -> list[str]:
        """Refunds REFUNDING on ``path`` whose next look is due."""
        rows = await self._s.execute(
            sa.select(R.refund_id)
            .where(
                R.state == RefundState.REFUNDING.value,
                R.payout_path == path,
                R.payout_due_at <= now,
            )
            .order_by(R.payout_due_at)
            .limit(limit)
        )
        return [r.refund_id for r in rows]

    async def record_platform_refund(
        self, platform_refund_id: str, refund_id: str, amount: int, at: datetime
    ) -> bool:
        return await insert_if_absent(
            self._s,
            orm.platform_refunds,
            {
                "platform_refund_id": platform_refund_id,
                "refund_id": refund_id,
                "amount": amount,
                "created_at": at,
            },
            on=("platform_refund_id",),
        )

    async def platform_refund(self, platform_refund_id: str) -> str | None:
        c = orm.platform_refunds.c
        row = (
            await self._s.execute(
                sa.select(c.refund_id).where(c.platform_refund_id == platform_refund_id)
            )
        ).first()
        return row.refund_id if row else None

    async def page(
        self, *, order_id: str, ticket_id: str, state: str, page_size: int, token: str
    ) -> tuple[list[Refund], str]:
        query = sa.select(orm.refunds)
        if order_id:
            query = query.where(R.order_id == order_id)
        if ticket_id:
            query = query.where(R.ticket_id == ticket_id)
        if state:
            query = query.where(R.state == state)
        if token:
            if not token.isalnum() or len(token) > 26:
                raise InvalidPageToken("page_token is not one this service gave out")
            query = query.where(R.refund_id < token)
        rows = (
            await self._s.execute(query.order_by(R.refund_id.desc()).limit(page_size + 1))
        ).all()
        refunds = [_from_row(r) for r in rows[:page_size]]
        more = len(rows) > page_size
        return refunds, refunds[-1].refund_id if more and refunds else ""


_CLOSED = frozenset(
    {
        RefundState.REFUNDED,
        RefundState.REJECTED,
        RefundState.CANCELLED,
        RefundState.FAILED,
    }
)
