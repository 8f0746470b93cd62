"""Automatic approval after payment: every rule must pass, else the order is reviewed."""

from __future__ import annotations

from dataclasses import dataclass, field

from oms_orders.domain.order import Order

AMOUNT_OVER_THRESHOLD = "AMOUNT_OVER_THRESHOLD"
INCOMPLETE_ADDRESS = "INCOMPLETE_ADDRESS"
BUYER_BLOCKLISTED = "BUYER_BLOCKLISTED"


@dataclass(frozen=True)
class ApprovalRules:
    max_amount_minor_units: int = 200_000
    buyer_blocklist: frozenset[str] = field(default_factory=frozenset)

    def review_reasons(self, order: Order) -> list[str]:
        """Reason codes that send ``order`` to review; empty means approve at once."""
        reasons = []
        # The lines' worth counts too: a declared total far below it must not slip past.
        worth = sum(line.unit_price.minor_units * line.quantity for line in order.lines)
        if max(order.total.minor_units, worth) > self.max_amount_minor_units:
            reasons.append(AMOUNT_OVER_THRESHOLD)
        a = order.shipping_address
        if not all((a.province, a.city, a.line1, a.recipient_name, a.phone)):
            reasons.append(INCOMPLETE_ADDRESS)
        if order.buyer.id in self.buyer_blocklist or (
            order.buyer.name and order.buyer.name in self.buyer_blocklist
        ):
            reasons.append(BUYER_BLOCKLISTED)
        return reasons
