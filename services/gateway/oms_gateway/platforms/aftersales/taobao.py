"""Taobao/Tmall refund and dispute messages (TMC topics ``taobao_refund_*``), pushed through
Qimen like trades and signed the same way (the signed query string covers the raw body).

Assumed body: the TMC message envelope ``{"topic", "id", "pub_time", "pub_app_key",
"user_id", "user_nick", "content"}`` where ``content`` is the JSON string of the refund
(``refund_id``, ``tid``, ``oid``, ``buyer_open_uid``/``buyer_nick``, ``refund_fee``,
``bill_type``, ``refund_phase``, ``modified``, and for message topics ``message``). A body
with a ``topic`` member is an after-sales message; any other body is a trade push. The TMC
message ``id`` identifies the message. ``taobao_refund_RefundSuccess`` says Taobao has
refunded the buyer ``refund_fee`` (yuan): it is also recorded as the platform's refund.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from oms_gateway.domain.customer_message import (
    CaseKind,
    CustomerIdentity,
    CustomerMessage,
    MessageChannel,
    bounded_text,
    refund_paid,
    request_id,
)
from oms_gateway.domain.errors import InvalidPayload
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation
from oms_gateway.platforms.aftersales.routing_types import OrderTranslation
from oms_gateway.platforms.common import china_time, event_id, load_json, minor_units, validate

NAME = "taobao"
TOPIC_PREFIX = "taobao_refund_"
REFUND_SUCCESS = "taobao_refund_RefundSuccess"
#: Topics of the platform's intervention (小二介入): the buyer escalated, a dispute.
DISPUTE_TOPICS = frozenset(
    {
        "taobao_refund_TaobaoInterApplied",
        "taobao_refund_TaobaoInterBuyerSubmitted",
        "taobao_refund_TaobaoInterSellerSubmitted",
        "taobao_refund_TaobaoInterFinished",
    }
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TaobaoTmcMessage(_Model):
    """A TMC message envelope (after-sales kinds of the Taobao push)."""

    topic: str = Field(min_length=1, max_length=100, description="e.g. taobao_refund_RefundCreated")
    id: int | str = Field(description="The TMC message id.")
    pub_time: str = ""
    user_id: int | str | None = Field(None, description="The seller's user id.")
    user_nick: str = ""
    content: str = Field(description="JSON string: TaobaoRefundContent.")


class TaobaoRefundContent(_Model):
    refund_id: int | str
    tid: int | str
    oid: int | str | None = None
    buyer_open_uid: str = ""
    buyer_nick: str = ""
    refund_fee: str = Field("", max_length=24, description="Yuan, e.g. 12.50.")
    bill_type: str = Field("", description="refund_bill (refund) or return_bill (return).")
    refund_phase: str = ""
    modified: str = ""
    reason: str = ""
    desc: str = ""
    message: str = Field("", description="The buyer's words, on message topics.")


class Reader:
    def translate(self, push: RawPush, orders: OrderTranslation) -> Translation:
        data = load_json(push.body)
        if not (isinstance(data, dict) and "topic" in data):
            return orders(push)
        envelope = validate(TaobaoTmcMessage, data)
        if not envelope.topic.startswith(TOPIC_PREFIX):
            raise InvalidPayload(
                f"topic {envelope.topic[:100]!r} is not a refund topic ({TOPIC_PREFIX}*)",
                metadata={"field": "topic"},
            )
        content = validate(
            TaobaoRefundContent, load_json(envelope.content, what="content"), prefix="content"
        )
        message_id = event_id(str(envelope.id), field="id")
        stamp = content.modified or envelope.pub_time
        message = CustomerMessage(
            channel=MessageChannel.PLATFORM_AFTERSALE,
            request_id=request_id(NAME, message_id),
            merchant_id=str(envelope.user_id or envelope.user_nick)[:64],
            customer=CustomerIdentity(
                platform=NAME, buyer_id=content.buyer_open_uid or content.buyer_nick
            ),
            text=bounded_text(content.message, content.reason, content.desc),
            message_time=china_time(stamp, field="content.modified") if stamp else None,
            topic=envelope.topic,
            platform=NAME,
            platform_order_id=str(content.tid),
            case_id=str(content.refund_id),
            case_kind=case_kind(envelope.topic, content.bill_type),
            refund_paid=refund_paid(
                minor_units(content.refund_fee, field="content.refund_fee")
                if envelope.topic == REFUND_SUCCESS and content.refund_fee
                else None
            ),
        )
        return Translation(platform=NAME, event_id=message_id, messages=(message,))


def case_kind(topic: str, bill_type: str) -> CaseKind:
    if topic in DISPUTE_TOPICS:
        return CaseKind.DISPUTE
    return CaseKind.RETURN if bill_type == "return_bill" else CaseKind.REFUND
