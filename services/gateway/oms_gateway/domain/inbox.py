"""The inbox entry: one verified raw push and the state of its delivery to orders."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
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
    """What is kept of a push refused at the door (bad signature, invalid body).

    Refused pushes are mostly unauthenticated, so only bounded metadata is kept, never
    the headers or the body: enough for support to match a platform's complaint
    ("we sent X at T") by time, length and hash, not enough to fill the disk.
    """

    MAX_MESSAGE = 500
    MAX_HEADER_NAMES = 16
    MAX_HEADER_NAME = 64
    MAX_SOURCE = 64

    id: str
    platform: str
    reason: str
    message: str
    source: str | None
    body_bytes: int
    body_sha256: str
    header_names: tuple[str, ...]
    received_at: datetime

    @classmethod
    def of(
        cls,
        push: RawPush,
        *,
        id: str,
        reason: str,
        message: str,
        source: str | None,
        received_at: datetime,
    ) -> RejectedPush:
        return cls(
            id=id,
            platform=push.platform,
            reason=reason[:64],
            message=message[: cls.MAX_MESSAGE],
            source=source[: cls.MAX_SOURCE] if source else None,
            body_bytes=len(push.body),
            body_sha256=hashlib.sha256(push.body).hexdigest(),
            header_names=bounded_header_names(push.headers),
            received_at=received_at,
        )


def bounded_header_names(headers: Mapping[str, str] | Iterable[str]) -> tuple[str, ...]:
    """At most 16 header names (sorted, each cut to 64 characters); never their values."""
    names = sorted({name[: RejectedPush.MAX_HEADER_NAME] for name in headers})
    return tuple(names[: RejectedPush.MAX_HEADER_NAMES])


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
