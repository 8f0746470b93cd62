"""Request ids the service has answered, for idempotency (``omslib.db.request_log``)."""

from __future__ import annotations

from omslib.db.request_log import RequestLog as RequestIds
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters.orm import processed_requests
from oms_orders.domain.sync import ProcessedRequest, Refusal, SyncOutcome

_LOG = RequestIds(processed_requests)


class RequestLog:
    """``processed_requests``: per request id, the order it concerned and the outcome."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, request_id: str) -> ProcessedRequest | None:
        row = await _LOG.recorded(self._session, request_id)
        if row is None:
            return None
        refusal = None
        if row["refusal_reason"] is not None:
            refusal = Refusal(
                row["refusal_reason"],
                row["refusal_message"] or "",
                dict(row["refusal_metadata"] or {}),
            )
        return ProcessedRequest(
            request_id,
            row["order_id"],
            SyncOutcome(row["outcome"]),
            row["create_time"],
            row["fingerprint"] or "",
            refusal,
        )

    async def record(self, request: ProcessedRequest) -> None:
        """Insert if absent: a concurrent twin that got there first keeps its answer."""
        await _LOG.record(
            self._session,
            request.request_id,
            {
                "order_id": request.order_id,
                "outcome": request.outcome.value,
                "create_time": request.time,
                "fingerprint": request.fingerprint,
                "refusal_reason": request.refusal.reason if request.refusal else None,
                "refusal_message": request.refusal.message if request.refusal else None,
                "refusal_metadata": request.refusal.metadata if request.refusal else None,
            },
        )
