"""The poller interface: fetch orders modified since a cursor, and translate one of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation

POLL_CHANNEL_HEADER = "x-oms-poll-channel"


@dataclass(frozen=True)
class PolledOrder:
    """One order as the channel returned it: its id, modification time and raw JSON."""

    platform_order_id: str
    modified_at: datetime
    raw: bytes

    @property
    def event_id(self) -> str:
        """Dedupe key within the channel: order id + modification time."""
        return f"{self.platform_order_id}@{self.modified_at.isoformat()}"


@dataclass(frozen=True)
class PollPage:
    orders: list[PolledOrder]
    next_cursor: str | None
    has_more: bool = False


class ChannelPoller(Protocol):
    #: Channel name: the inbox ``platform`` of what it fetches (unique, not a webhook name).
    name: str
    #: Body schema of one stored order (for the PlatformAdapter-shaped intake).
    body_model: type[BaseModel]
    interval_seconds: float

    async def fetch(self, cursor: str | None) -> PollPage:
        """Orders modified since ``cursor`` (None: from the start), oldest first."""
        ...

    def translate(self, push: RawPush) -> Translation:
        """Stored raw order -> canonical snapshot (``InvalidPayload`` names the bad field)."""
        ...

    async def close(self) -> None: ...
