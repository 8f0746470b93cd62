"""Delivery of customer messages (the after-sales kinds of the inbox) to aftersales.

The delivery worker calls this for a translation's ``messages`` as it calls orders for
its snapshots: same entry, same lease, same retries. A message saying the marketplace
refunded the case is also recorded as that platform's refund (``RecordPlatformRefund``),
which completes our refund without paying anything ourselves. ``AftersalesUnavailable`` is worth
retrying; any other ``DomainError`` is a verdict on the message (dead letter).
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import trace

from oms_gateway.domain.customer_message import CustomerMessage
from oms_gateway.domain.errors import AftersalesUnavailable
from oms_gateway.service_layer.ports import AftersalesPort, SyncResult

__all__ = ["AftersalesPort", "AftersalesUnavailable", "record_messages"]

SPAN_ATTR_CHANNEL = "oms.channel"
SPAN_ATTR_PLATFORM_ORDER_ID = "oms.platform_order_id"


async def record_messages(
    aftersales: AftersalesPort | None, messages: Iterable[CustomerMessage]
) -> list[SyncResult]:
    """Hand each message to aftersales; each result's ``order_id`` is the ticket id."""
    span = trace.get_current_span()
    results: list[SyncResult] = []
    for message in messages:
        span.set_attribute(SPAN_ATTR_CHANNEL, message.channel.value)
        if message.platform_order_id:
            span.set_attribute(SPAN_ATTR_PLATFORM_ORDER_ID, message.platform_order_id)
        if aftersales is None:
            raise AftersalesUnavailable("no aftersales client is wired into this delivery worker")
        result = await aftersales.record_customer_message(message)
        results.append(result)
        if message.refund_paid is not None:
            # After the message, so the refund belongs to the case's ticket; both calls
            # are idempotent, so a retry of the entry repeats them safely.
            results.append(await aftersales.record_platform_refund(message, result.order_id))
    return results
