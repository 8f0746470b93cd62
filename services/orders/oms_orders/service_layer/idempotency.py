"""Request ids: a repeat of a request is answered as before (a refusal included: the
first answer is the answer); the same id with another request is refused (as payment
APIs do with idempotency keys)."""

from __future__ import annotations

import hashlib
from typing import Any

from omslib.errors import FailedPrecondition

from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.domain.errors import RequestIdReused
from oms_orders.domain.sync import ProcessedRequest, Refusal

MAX_REQUEST_ID = 256


def fingerprint(method: str, **fields: Any) -> str:
    """A stable hash of what a request asks (its method and fields, request id excluded)."""
    text = method + "\x1f" + "\x1f".join(f"{k}={fields[k]!r}" for k in sorted(fields))
    return hashlib.sha256(text.encode()).hexdigest()


async def earlier_request(
    uow: OrdersUnitOfWork, request_id: str, request_fingerprint: str
) -> ProcessedRequest | None:
    """The earlier answer to ``request_id``, if any; RequestIdReused if it asked otherwise."""
    if not request_id:
        return None
    seen = await uow.requests.get(request_id)
    if seen is None:
        return None
    # Rows written before fingerprints were kept have none: they are trusted.
    if seen.fingerprint and seen.fingerprint != request_fingerprint:
        raise RequestIdReused(
            "this request_id was already used for a different request; "
            "use a new request_id for a new request",
            metadata={"order_id": seen.order_id},
        )
    return seen


class ReplayedRefusal(FailedPrecondition):
    """The earlier refusal of this request_id, answered again."""


def replayed_refusal(refusal: Refusal) -> ReplayedRefusal:
    return ReplayedRefusal(
        refusal.message,
        reason=refusal.reason or None,
        metadata={**refusal.metadata, "replayed": "true"},
    )
