"""A customer's message for the after-sales desk, as one channel delivered it.

Platform after-sales pushes (refunds, returns, disputes), WeChat customer-service
messages and web-form submissions all become a ``CustomerMessage``; the delivery
worker hands it to the aftersales service, which opens a ticket or threads it onto
the customer's open one. ``request_id`` (the channel's own message id) makes that
idempotent.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime

#: What aftersales accepts (``RecordCustomerMessageRequest``).
MAX_REQUEST_ID_LENGTH = 128
MAX_TEXT_LENGTH = 4000
MAX_MERCHANT_LENGTH = 64


class MessageChannel(enum.Enum):
    PLATFORM_MESSAGE = "PLATFORM_MESSAGE"  # a buyer's message on a platform
    PLATFORM_AFTERSALE = "PLATFORM_AFTERSALE"  # a platform's refund, return or dispute case
    WECHAT = "WECHAT"
    WEB_FORM = "WEB_FORM"


class CaseKind(enum.Enum):
    REFUND = "REFUND"
    RETURN = "RETURN"
    DISPUTE = "DISPUTE"


@dataclass(frozen=True)
class CustomerIdentity:
    """What the channel knows of the customer: a platform buyer, a phone or a WeChat openid."""

    platform: str = ""
    buyer_id: str = ""
    phone: str = ""
    wechat_openid: str = ""


@dataclass(frozen=True)
class PlatformRefundPaid:
    """A marketplace says it has refunded the buyer (the case's refund succeeded): the
    amount it paid back, in minor units. Aftersales records it against the order, once
    per case, so our refund completes without our paying anything."""

    amount_minor_units: int
    currency: str = "CNY"


@dataclass(frozen=True)
class CustomerMessage:
    channel: MessageChannel
    #: The channel's own message id, unique within the channel (``<platform>:<event id>``
    #: for platform pushes, so that two platforms' ids never meet).
    request_id: str
    merchant_id: str
    customer: CustomerIdentity
    text: str
    message_time: datetime | None
    #: The platform's own message type (``taobao_refund_RefundCreated``, ``refunds/create``...).
    topic: str = ""
    #: The order as the platform names it, when the message names one.
    platform: str = ""
    platform_order_id: str = ""
    #: The platform's after-sales case (refund id, after-sale id, dispute id), if any.
    case_id: str = ""
    case_kind: CaseKind | None = None
    #: Our own order, ``orders/{order_id}``, when the channel names it (the web form).
    order: str = ""
    #: Set on the push that says the platform refunded the case (``case_id`` is the
    #: platform's refund id then).
    refund_paid: PlatformRefundPaid | None = None


def refund_paid(amount_minor_units: int | None, currency: str = "CNY") -> PlatformRefundPaid | None:
    """What a refund-success push paid back; None when it names no amount above zero
    (nothing to record, the message still reaches the ticket)."""
    if not amount_minor_units or amount_minor_units <= 0:
        return None
    return PlatformRefundPaid(amount_minor_units=amount_minor_units, currency=currency)


def request_id(prefix: str, event_id: str) -> str:
    """``<prefix>:<event id>``, hashed down to aftersales' 128 characters when longer."""
    whole = f"{prefix}:{event_id}"
    if len(whole) <= MAX_REQUEST_ID_LENGTH:
        return whole
    return f"{prefix}:sha256:{hashlib.sha256(event_id.encode()).hexdigest()}"


def bounded_text(*parts: str) -> str:
    """The non-empty parts, one per line, cut to what aftersales takes (a platform's long
    text is still a ticket: refusing the push would lose it)."""
    text = "\n".join(part.strip() for part in parts if part and part.strip())
    return text[:MAX_TEXT_LENGTH]
