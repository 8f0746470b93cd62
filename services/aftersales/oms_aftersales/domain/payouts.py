"""The payment-provider port: money back on the original payment path, exactly once.

``refund`` is called with an idempotency key fixed per refund: a call whose outcome
is unknown (timeout, 5xx, connection lost) raises ``PayoutUnknown`` and is retried
later with the SAME key, so the provider pays at most once whatever happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PayoutRequest:
    key: str  # the idempotency key: "refund-{refund_id}", never re-issued
    payment_reference: str  # the original payment, as recorded at RecordPayment
    amount: int  # minor units
    currency: str


class PayoutRefused(Exception):
    """The provider answered that it will not pay (e.g. unknown payment, over the charge)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PayoutUnknown(Exception):
    """The outcome is not known; retry with the same key."""


class PaymentProvider(Protocol):
    async def refund(self, request: PayoutRequest) -> str:
        """Pay the refund; the provider's refund id. Raises PayoutRefused / PayoutUnknown."""
        ...


def payout_key(refund_id: str) -> str:
    return f"refund-{refund_id}"
