"""What a platform snapshot did to the stored order, and the idempotency record."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class SyncOutcome(enum.Enum):
    CREATED = "CREATED"
    ADVANCED = "ADVANCED"
    STALE = "STALE"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class ProcessedRequest:
    """A request id already answered: repeats get the current order (DUPLICATE for a sync)."""

    request_id: str
    order_id: str
    outcome: SyncOutcome
    time: datetime
    #: What the request asked (see ``service_layer.idempotency.fingerprint``).
    fingerprint: str = ""
