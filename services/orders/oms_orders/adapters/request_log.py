"""Request ids the service has answered, for idempotency."""

from __future__ import annotations

from omslib.db.inserts import insert_if_absent
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters.orm import processed_requests
from oms_orders.domain.sync import ProcessedRequest, Refusal, SyncOutcome

_r = processed_requests.c
# Built once, with bound parameters (see omslib.outbox.writer for why).
_SELECT = select(processed_requests).where(_r.request_id == bindparam("request_id"))


class RequestLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, request_id: str) -> ProcessedRequest | None:
        row = (await self._session.execute(_SELECT, {"request_id": request_id})).first()
        if row is None:
            return None
        refusal = None
        if row.refusal_reason is not None:
            refusal = Refusal(
                row.refusal_reason, row.refusal_message or "", dict(row.refusal_metadata or {})
            )
        return ProcessedRequest(
            row.request_id,
            row.order_id,
            SyncOutcome(row.outcome),
            row.create_time,
            row.fingerprint or "",
            refusal,
        )

    async def record(self, request: ProcessedRequest) -> None:
        """Insert if absent: a concurrent twin that got there first keeps its answer."""
        await insert_if_absent(
            self._session,
            processed_requests,
            {
                "request_id": request.request_id,
                "order_id": request.order_id,
                "outcome": request.outcome.value,
                "create_time": request.time,
                "fingerprint": request.fingerprint,
                "refusal_reason": request.refusal.reason if request.refusal else None,
                "refusal_message": request.refusal.message if request.refusal else None,
                "refusal_metadata": request.refusal.metadata if request.refusal else None,
            },
            on=("request_id",),
        )
