"""Shopify ``refunds/create`` and ``disputes/create``/``disputes/update`` webhooks, signed
like order webhooks (``X-Shopify-Hmac-SHA256`` over the raw body).

The topic comes in ``X-Shopify-Topic``, the delivery's id in ``X-Shopify-Webhook-Id``, the
shop in ``X-Shopify-Shop-Domain``. ``refunds/create`` sends the Refund resource (``id``,
``order_id``, ``created_at``, ``note``); the dispute topics the Dispute resource (``id``,
``order_id``, ``type`` chargeback or inquiry, ``reason``, ``status``, ``amount``,
``currency``, ``initiated_at``). Neither names the customer: the order does.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from oms_gateway.domain.customer_message import (
    CaseKind,
    CustomerIdentity,
    CustomerMessage,
    MessageChannel,
    bounded_text,
    request_id,
)
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation
from oms_gateway.platforms.aftersales.routing_types import OrderTranslation
from oms_gateway.platforms.common import event_id, load_json, validate
from oms_gateway.platforms.shopify import HEADER_TOPIC, HEADER_WEBHOOK_ID

NAME = "shopify"
HEADER_SHOP = "x-shopify-shop-domain"
REFUND_TOPICS = frozenset({"refunds/create"})
DISPUTE_TOPICS = frozenset({"disputes/create", "disputes/update"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ShopifyRefundWebhook(_Model):
    id: int = Field(gt=0)
    order_id: int = Field(gt=0)
    created_at: AwareDatetime
    note: str | None = None


class ShopifyDisputeWebhook(_Model):
    id: int = Field(gt=0)
    order_id: int | None = Field(None, gt=0)
    type: str = Field("chargeback", description="chargeback or inquiry.")
    reason: str = ""
    status: str = ""
    amount: str = ""
    currency: str = ""
    initiated_at: AwareDatetime | None = None


class Reader:
    def translate(self, push: RawPush, orders: OrderTranslation) -> Translation:
        topic = push.headers.get(HEADER_TOPIC, "").strip()
        if topic not in REFUND_TOPICS | DISPUTE_TOPICS:
            return orders(push)
        webhook_id = event_id(push.headers.get(HEADER_WEBHOOK_ID, ""), field=HEADER_WEBHOOK_ID)
        if topic in REFUND_TOPICS:
            refund = validate(ShopifyRefundWebhook, load_json(push.body))
            case = (str(refund.id), CaseKind.REFUND, str(refund.order_id))
            text = bounded_text(refund.note or "")
            when: datetime | None = refund.created_at
        else:
            dispute = validate(ShopifyDisputeWebhook, load_json(push.body))
            case = (str(dispute.id), CaseKind.DISPUTE, str(dispute.order_id or ""))
            words = f"{dispute.type}: {dispute.reason} ({dispute.status})"
            text = bounded_text(words, f"{dispute.amount} {dispute.currency}")
            when = dispute.initiated_at
        case_id, kind, order_id = case
        message = CustomerMessage(
            channel=MessageChannel.PLATFORM_AFTERSALE,
            request_id=request_id(NAME, webhook_id),
            merchant_id=push.headers.get(HEADER_SHOP, "").strip()[:64],
            customer=CustomerIdentity(platform=NAME),
            text=text,
            message_time=when,
            topic=topic,
            platform=NAME,
            platform_order_id=order_id,
            case_id=case_id,
            case_kind=kind,
        )
        return Translation(platform=NAME, event_id=webhook_id, messages=(message,))
