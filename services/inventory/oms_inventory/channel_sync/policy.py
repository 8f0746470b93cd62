"""What a channel may show: the business rule of channel stock sync."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChannelPolicy:
    """One connected channel's rule.

    Shown stock = available - ``safety_buffer``, capped by the SKU's allocation
    (``allocations[sku]``, else ``allocation``) when there is one, never below zero.
    """

    channel: str
    safety_buffer: int = 0
    allocation: int | None = None
    allocations: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.safety_buffer < 0:
            raise ValueError(f"{self.channel}: safety_buffer must be >= 0")
        caps = [*self.allocations.values(), *([self.allocation] if self.allocation else [])]
        if any(cap < 0 for cap in caps):
            raise ValueError(f"{self.channel}: allocations must be >= 0")

    def shown(self, sku: str, available: int) -> int:
        value = available - self.safety_buffer
        cap = self.allocations.get(sku, self.allocation)
        if cap is not None:
            value = min(value, cap)
        return max(0, value)
