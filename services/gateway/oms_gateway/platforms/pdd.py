"""Pinduoduo order messages, received over the WebSocket the gateway opens (see
``pdd_connector.py``); Pinduoduo does not push over HTTP.

Each frame the platform sends is ``{"commandType": "Common", "id": <message id>,
"sendTime": <ms>, "message": {"type": "pdd_trade_TradeConfirmed", "mallID": ..,
"content": "<JSON string>"}}``; ``content`` carries the order with Pinduoduo's field
names (``order_sn``, ``order_status``, ``item_list``, amounts in yuan, times
``yyyy-MM-dd HH:mm:ss`` UTC+8). The frame's ``id`` is the event id (``pdd:<id>``).

``pdd_refund_RefundSuccess`` with ``refund_status`` 4 (退款成功) voids the order and says
Pinduoduo refunded the buyer: besides the CANCELLED snapshot it carries an after-sales
message recording the platform's refund of ``pay_amount`` (case id ``refund:<order_sn>``,
one per order: the whole order is refunded).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from oms_gateway.domain.customer_message import (
    CaseKind,
    CustomerIdentity,
    CustomerMessage,
    MessageChannel,
    refund_paid,
    request_id,
)
from oms_gateway.domain.errors import InvalidSignature
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Buyer, OrderSnapshot, PlatformOrderStatus, Translation
from oms_gateway.platforms.china_orders import Read, YuanLine, china_address, yuan_snapshot
from oms_gateway.platforms.common import (
    MAX_QUANTITY,
    CredentialedAdapter,
    Credentials,
    china_time,
    event_id,
    load_json,
    minor_units,
    status_of,
    validate,
)

NAME = "pdd"
SECRET_ENV = "OMS_PLATFORM_PDD_SECRET"
ID_ENV = "OMS_PLATFORM_PDD_ID"
URL_ENV = "OMS_PLATFORM_PDD_WS_URL"
#: Header the connector puts on the pushes it stores (for support; never trusted from HTTP).
TRANSPORT_HEADER = "x-oms-transport"

#: Order messages; other types are acknowledged and stored without snapshots.
ORDER_TYPES = frozenset(
    {
        "pdd_trade_TradeConfirmed",
        "pdd_trade_TradeSellerShip",
        "pdd_trade_TradeSuccess",
        "pdd_trade_TradeModified",
        "pdd_refund_RefundCreated",
        "pdd_refund_RefundSuccess",
    }
)
#: Pinduoduo ``order_status`` -> canonical status (orders are visible once paid).
STATUS_MAP: dict[int, PlatformOrderStatus] = {
    1: PlatformOrderStatus.PAID,  # 待发货
    2: PlatformOrderStatus.SHIPPED,  # 已发货待签收
    3: PlatformOrderStatus.DELIVERED,  # 已签收
}
#: ``refund_status`` that overrides the order status (4 = 退款成功: the order is void).
REFUND_STATUS_MAP: dict[int, PlatformOrderStatus | None] = {
    1: None,  # 无售后或售后关闭
    2: None,  # 售后处理中
    3: None,  # 退款中
    4: PlatformOrderStatus.CANCELLED,  # 退款成功
}
REFUND_SUCCESS = "pdd_refund_RefundSuccess"
REFUNDED = 4


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PddMessageBody(_Model):
    type: str = Field(min_length=1)
    mallID: int | str | None = None
    content: str = Field(description="JSON string of PddOrderContent for order messages.")


class PddFrame(_Model):
    """One frame of Pinduoduo's message WebSocket."""

    commandType: str
    id: int | str
    sendTime: int | None = None
    message: PddMessageBody


class PddItem(_Model):
    outer_id: str = Field(min_length=1, description="The merchant's SKU code.")
    sku_id: int | str | None = None
    goods_id: int | str | None = None
    goods_name: str = ""
    goods_count: int = Field(gt=0, le=MAX_QUANTITY)
    goods_price: Decimal = Field(ge=0, description="Unit price, yuan.")


class PddOrderContent(_Model):
    order_sn: str = Field(min_length=1)
    order_status: int
    refund_status: int = 1
    created_time: str
    updated_at: str
    confirm_time: str | None = None
    pay_amount: Decimal = Field(ge=0, description="What the buyer paid, yuan.")
    goods_amount: Decimal | None = None
    postage: Decimal | None = None
    province: str = Field(min_length=1)
    city: str = Field(min_length=1)
    town: str = ""
    address: str = Field(min_length=1)
    receiver_name: str = ""
    receiver_phone: str = ""
    item_list: list[PddItem] = Field(min_length=1)


class PddAdapter(CredentialedAdapter):
    """Translates stored Pinduoduo frames. ``verify`` refuses HTTP pushes: messages are only
    trusted when they arrive on the connection the gateway opened and signed itself."""

    name = NAME
    body_model: type[BaseModel] = PddFrame
    #: HTTP pushes are refused (401) whether or not the connection is configured.
    accepts_http = False

    def __init__(self, client_id: str | None, secret: str | None, url: str | None) -> None:
        self._credentials = Credentials(
            secret=secret, secret_env=SECRET_ENV, key=client_id, key_env=ID_ENV
        )
        self.url = url

    def disabled_hint(self) -> str:
        return super().disabled_hint() + f" (and {URL_ENV} to connect)"

    def verify(self, push: RawPush) -> None:
        raise self.http_refusal()

    def http_refusal(self) -> InvalidSignature:
        return InvalidSignature(
            "Pinduoduo messages are received over the gateway's own WebSocket connection "
            f"({URL_ENV}); HTTP pushes to /webhooks/pdd are never trusted"
        )

    def translate(self, push: RawPush) -> Translation:
        frame = validate(PddFrame, load_json(push.body))
        message_id = event_id(str(frame.id), field="id")
        if frame.message.type not in ORDER_TYPES:
            return Translation(platform=NAME, event_id=message_id)
        content = validate(
            PddOrderContent,
            load_json(frame.message.content, what="message.content"),
            prefix="message.content",
        )
        refunded = frame.message.type == REFUND_SUCCESS and content.refund_status == REFUNDED
        return Translation(
            platform=NAME,
            event_id=message_id,
            snapshots=(to_snapshot(content),),
            messages=(refund_message(frame, message_id, content),) if refunded else (),
        )


def refund_message(frame: PddFrame, message_id: str, content: PddOrderContent) -> CustomerMessage:
    """The after-sales side of a refund-success message: the platform refunded the order."""
    return CustomerMessage(
        channel=MessageChannel.PLATFORM_AFTERSALE,
        request_id=request_id(NAME, message_id),
        merchant_id=str(frame.message.mallID or "")[:64],
        customer=CustomerIdentity(platform=NAME),
        text="",
        message_time=china_time(content.updated_at, field="message.content.updated_at"),
        topic=frame.message.type,
        platform=NAME,
        platform_order_id=content.order_sn,
        case_id=f"refund:{content.order_sn}"[:128],
        case_kind=CaseKind.REFUND,
        refund_paid=refund_paid(
            minor_units(content.pay_amount, field="message.content.pay_amount")
        ),
    )


class ConnectionVerified:
    """The adapter as the connector uses it: the connection itself was authenticated."""

    def __init__(self, adapter: PddAdapter) -> None:
        self._adapter = adapter
        self.name = adapter.name
        self.body_model = adapter.body_model

    @property
    def enabled(self) -> bool:
        return self._adapter.enabled

    def disabled_hint(self) -> str:
        return self._adapter.disabled_hint()

    def verify(self, push: RawPush) -> None:
        return None

    def translate(self, push: RawPush) -> Translation:
        return self._adapter.translate(push)


def to_snapshot(content: PddOrderContent) -> OrderSnapshot:
    prefix = "message.content"
    status = status_of(STATUS_MAP, content.order_status, field=f"{prefix}.order_status")
    refund = status_of(REFUND_STATUS_MAP, content.refund_status, field=f"{prefix}.refund_status")
    return yuan_snapshot(
        platform=NAME,
        order_id=content.order_sn,
        status=refund or status,
        platform_status=f"{content.order_status}/{content.refund_status}",
        created=Read(content.created_time, f"{prefix}.created_time"),
        updated=Read(content.updated_at, f"{prefix}.updated_at"),
        payment=Read(content.pay_amount, f"{prefix}.pay_amount"),
        buyer=Buyer(id="", name=content.receiver_name),
        address=china_address(
            content.province,
            content.city,
            content.town,
            content.address,
            recipient_name=content.receiver_name,
            phone=content.receiver_phone,
        ),
        lines=(
            YuanLine(
                item.outer_id,
                item.goods_count,
                Read(item.goods_price, f"{prefix}.item_list.{n}.goods_price"),
                item.goods_name,
            )
            for n, item in enumerate(content.item_list)
        ),
        paid=Read(content.confirm_time, f"{prefix}.confirm_time"),
    )
