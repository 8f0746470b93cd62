"""What the service layer needs from the outside world."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from oms_gateway.domain.customer_message import CustomerMessage
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import OrderSnapshot, Translation


@dataclass(frozen=True)
class SyncResult:
    order_id: str
    outcome: str  # CREATED, ADVANCED, STALE, DUPLICATE, REJECTED


class OrdersPort(Protocol):
    async def sync_platform_order(self, request_id: str, snapshot: OrderSnapshot) -> SyncResult:
        """Raise ``OrdersUnavailable`` (retry later) or ``OrdersRejected`` (give up)."""
        ...


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int = 0


class RateLimiterPort(Protocol):
    async def acquire(self, platform: str) -> RateDecision:
        """Take one push from ``platform``'s budget; never raises (fails open)."""
        ...


class Translator(Protocol):
    def translate(self, push: RawPush) -> Translation:
        """Stored raw push -> canonical snapshots (``InvalidPayload`` when it cannot)."""
        ...


class AftersalesPort(Protocol):
    async def record_customer_message(self, message: CustomerMessage) -> SyncResult:
        """The ticket the message opened or joined (``order_id`` holds the ticket id).

        Raise ``AftersalesUnavailable`` (retry later) or ``AftersalesRejected`` (give up).
        """
        ...

    async def record_platform_refund(self, message: CustomerMessage, ticket_id: str) -> SyncResult:
        """Record that the platform refunded the message's case (``message.refund_paid``),
        on the ticket the message went to. Same errors as ``record_customer_message``."""
        ...
