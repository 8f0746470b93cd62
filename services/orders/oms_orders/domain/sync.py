"""What a platform snapshot did to the stored order, and the idempotency record."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class SyncOutcome(enum.Enum):
    CREATED = "CREATED"
    ADVANCED = "ADVANCED"
    STALE = "STALE"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"
    #: A change refused by the order's rules (FAILED_PRECONDITION), remembered.
    REFUSED = "REFUSED"


@dataclass(frozen=True)
class ProcessedRequest:
    """A request id already answered: repeats get the current order (DUPLICATE for a sync)."""

    request_id: str
    order_id: str
    outcome: SyncOutcome
    time: datetime
    #: What the request asked (see ``service_layer.idempotency.fingerprint``).
    fingerprint: str = ""
    #: Why it was refused, for REFUSED: a replay is refused the same way.
    refusal: Refusal | None = None


@dataclass(frozen=True)
class Refusal:
    """The answer a refused request got: its reason, message and metadata."""

    reason: str
    message: str
    metadata: dict[str, str] = field(default_factory=dict)
