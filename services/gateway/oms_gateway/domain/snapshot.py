"""The canonical, platform-neutral order snapshot every platform adapter produces.

Orders reconciles snapshots (create if missing, move forward if newer, ignore if
stale), so a snapshot carries the platform's own modification time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from omslib.platforms.order_values import Address, Buyer, Money, OrderLine, PlatformOrderStatus

from oms_gateway.domain.customer_message import CustomerMessage

__all__ = [
    "Address",
    "Buyer",
    "Money",
    "OrderLine",
    "OrderSnapshot",
    "PlatformOrderStatus",
    "Translation",
]


@dataclass(frozen=True)
class OrderSnapshot:
    """One platform's view of one order at one moment."""

    platform: str
    platform_order_id: str
    status: PlatformOrderStatus
    platform_status: str
    create_time: datetime
    update_time: datetime
    total: Money
    buyer: Buyer
    shipping_address: Address
    lines: tuple[OrderLine, ...]
    version: int = 0
    pay_time: datetime | None = None


@dataclass(frozen=True)
class Translation:
    """What an adapter makes of one push: the platform's event id, its order snapshots and
    its customer messages (after-sales kinds, delivered to aftersales instead of orders)."""

    platform: str
    event_id: str
    snapshots: tuple[OrderSnapshot, ...] = field(default_factory=tuple)
    #: For a push that carries several messages with their own ids (Douyin): the message id
    #: of each snapshot, then of each customer message. Each is stored, deduplicated and
    #: delivered on its own.
    message_ids: tuple[str, ...] = ()
    messages: tuple[CustomerMessage, ...] = ()

    def request_id(self, index: int = 0) -> str:
        """The idempotency key orders sees: ``<platform>:<event id>`` (``#n`` for batches)."""
        if self.message_ids:
            return f"{self.platform}:{self.message_ids[index]}"
        base = f"{self.platform}:{self.event_id}"
        return base if len(self.snapshots) <= 1 else f"{base}#{index}"

    @property
    def inbox_event_ids(self) -> tuple[str, ...]:
        """The event ids this push is stored under: one per message, or the push's own."""
        return self.message_ids or (self.event_id,)

    def for_event(self, event_id: str) -> Translation:
        """The message stored under ``event_id`` (the whole translation if not a batch)."""
        if len(self.message_ids) <= 1 or event_id not in self.message_ids:
            return self
        index = self.message_ids.index(event_id)
        if index >= len(self.snapshots):  # a customer message's id follows the snapshots'
            return Translation(
                platform=self.platform,
                event_id=event_id,
                message_ids=(event_id,),
                messages=(self.messages[index - len(self.snapshots)],),
            )
        return Translation(
            platform=self.platform,
            event_id=event_id,
            snapshots=(self.snapshots[index],),
            message_ids=(event_id,),
        )
