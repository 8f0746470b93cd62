"""The inbox entry: one verified raw push and the state of its delivery to orders."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


class InboxState(enum.Enum):
    RECEIVED = "RECEIVED"  # stored, waiting for (another) delivery attempt
    DELIVERING = "DELIVERING"  # leased by one worker right now
    DELIVERED = "DELIVERED"  # orders accepted it
    DEAD = "DEAD"  # gave up: permanent error or too many attempts; operator replays


@dataclass(frozen=True)
class RawPush:
    """A platform push exactly as received: lower-cased headers and the raw body bytes."""

    platform: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class InboxEntry:
    id: str
    platform: str
    event_id: str
    received_at: datetime
    body: bytes
    headers: dict[str, str]
    traceparent: str | None
    next_attempt_at: datetime
    state: InboxState = InboxState.RECEIVED
    attempts: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = None
    last_error: str | None = None
    order_id: str | None = None
    outcome: str | None = None

    def raw_push(self) -> RawPush:
        return RawPush(platform=self.platform, headers=self.headers, body=self.body)


@dataclass(frozen=True)
class RejectedPush:
    """A push refused at the door (bad signature, invalid body): kept, never processed."""

    id: str
    platform: str
    reason: str
    message: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime


@dataclass(frozen=True)
class DeliveryAttempt:
    """One try at handing an inbox entry to orders, kept for operators (``oms inbox show``)."""

    id: str
    inbox_id: str
    attempted_at: datetime
    worker: str
    outcome: str  # delivered | retry | dead
    error: str | None = None
    order_id: str | None = None
