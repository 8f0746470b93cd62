"""Youzan refund (维权) messages, pushed like trade messages: the same envelope and the same
``Event-Sign``.

An ``Event-Type`` (header, and ``type`` in the envelope) starting with ``trade_refund_``
(e.g. ``trade_refund_BuyerCreated``, ``trade_refund_SellerAgree``, ``trade_refund_Closed``)
is an after-sales push. Its ``msg`` is the URL-encoded JSON of the refund: ``tid``, ``oid``,
``refund_id``, ``refund_state`` (SAFE_NEW, SAFE_INVOLVED = the platform's customer service
stepped in...), ``refund_type`` (REFUND_ONLY or REFUND_AND_RETURN), ``refund_reason``,
``refund_remark``, ``refunded_fee``, ``update_time`` (``yyyy-MM-dd HH:mm:ss``, UTC+8) and,
when sent, ``yz_open_id``/``buyer_id``. Like trade messages, ``(type, id, version)``
identifies a push. ``trade_refund_Success`` (退款成功) says Youzan has refunded the buyer
``refunded_fee`` (yuan): it is also recorded as the platform's refund.
"""

from __future__ import annotations

from urllib.parse import unquote

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
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation
from oms_gateway.platforms.aftersales.routing_types import OrderTranslation
from oms_gateway.platforms.common import china_time, event_id, load_json, minor_units, validate
from oms_gateway.platforms.youzan import HEADER_TYPE, YouzanPush

NAME = "youzan"
TYPE_PREFIX = "trade_refund_"
REFUND_SUCCESS = "trade_refund_Success"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class YouzanRefundMsg(_Model):
    tid: str = Field(min_length=1)
    oid: int | str | None = None
    refund_id: str = Field(min_length=1)
    refund_state: str = ""
    refund_type: str = Field("", description="REFUND_ONLY or REFUND_AND_RETURN.")
    refund_reason: str = ""
    refund_remark: str = ""
    refunded_fee: str | None = Field(None, max_length=24, description="Yuan, e.g. 12.50.")
    update_time: str = ""
    yz_open_id: str | None = None
    buyer_id: int | str | None = None


class Reader:
    def translate(self, push: RawPush, orders: OrderTranslation) -> Translation:
        if not push.headers.get(HEADER_TYPE, "").strip().startswith(TYPE_PREFIX):
            return orders(push)
        envelope = validate(YouzanPush, load_json(push.body))
        push_id = event_id(f"{envelope.type}:{envelope.id}:{envelope.version}", field="id")
        if envelope.test:
            return Translation(platform=NAME, event_id=push_id)
        refund = validate(
            YouzanRefundMsg, load_json(unquote(envelope.msg), what="msg"), prefix="msg"
        )
        message = CustomerMessage(
            channel=MessageChannel.PLATFORM_AFTERSALE,
            request_id=request_id(NAME, push_id),
            merchant_id=str(envelope.kdt_id or envelope.kdt_name)[:64],
            customer=CustomerIdentity(
                platform=NAME, buyer_id=str(refund.yz_open_id or refund.buyer_id or "")
            ),
            text=bounded_text(refund.refund_reason, refund.refund_remark),
            message_time=china_time(refund.update_time, field="msg.update_time")
            if refund.update_time
            else None,
            topic=envelope.type,
            platform=NAME,
            platform_order_id=refund.tid,
            case_id=refund.refund_id,
            case_kind=case_kind(refund),
            refund_paid=refund_paid(
                minor_units(refund.refunded_fee, field="msg.refunded_fee")
                if envelope.type == REFUND_SUCCESS and refund.refunded_fee
                else None
            ),
        )
        return Translation(platform=NAME, event_id=push_id, messages=(message,))


def case_kind(refund: YouzanRefundMsg) -> CaseKind:
    if refund.refund_state == "SAFE_INVOLVED":
        return CaseKind.DISPUTE
    return CaseKind.RETURN if refund.refund_type == "REFUND_AND_RETURN" else CaseKind.REFUND
