"""Youzan cloud message push (trade messages).

``Event-Sign`` = hex MD5(client_id + raw body + client_secret); headers ``Client-Id``
(must be ours) and ``Event-Type`` (e.g. ``trade_TradeCreate``). The body is Youzan's push
envelope whose ``msg`` is the URL-encoded JSON of the trade (``full_order_info``):
amounts are yuan strings, times ``yyyy-MM-dd HH:mm:ss`` in UTC+8. Youzan has no message
id; ``(type, id, version)`` identifies a push, ``version`` being the trade's change stamp.
Youzan expects ``{"code": 0, "msg": "success"}`` back.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import unquote

from omslib.platforms.signing.youzan import HEADER_CLIENT_ID, HEADER_SIGN, HEADER_TYPE
from pydantic import BaseModel, ConfigDict, Field

from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Buyer, OrderSnapshot, PlatformOrderStatus, Translation
from oms_gateway.platforms.app_signed import AppSignedAdapter
from oms_gateway.platforms.china_orders import Read, YuanLine, china_address, yuan_snapshot
from oms_gateway.platforms.common import (
    MAX_QUANTITY,
    event_id,
    load_json,
    status_of,
    validate,
)

NAME = "youzan"
SECRET_ENV = "OMS_PLATFORM_YOUZAN_SECRET"
ID_ENV = "OMS_PLATFORM_YOUZAN_ID"

#: Youzan trade ``status`` -> canonical status.
STATUS_MAP: dict[str, PlatformOrderStatus] = {
    "WAIT_BUYER_PAY": PlatformOrderStatus.CREATED,
    "WAIT_CONFIRM": PlatformOrderStatus.PAID,  # paid, group buy not complete yet
    "TRADE_PAID": PlatformOrderStatus.PAID,
    "WAIT_SELLER_SEND_GOODS": PlatformOrderStatus.PAID,
    "WAIT_BUYER_CONFIRM_GOODS": PlatformOrderStatus.SHIPPED,
    "TRADE_SUCCESS": PlatformOrderStatus.COMPLETED,
    "TRADE_CLOSE": PlatformOrderStatus.CANCELLED,
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class YouzanPush(_Model):
    """Youzan's push envelope."""

    client_id: str = ""
    id: str = Field(min_length=1, description="The business id: the trade's tid.")
    kdt_id: int | str | None = None
    kdt_name: str = ""
    type: str = Field(min_length=1, description="e.g. trade_TradeCreate, trade_TradePaid.")
    status: str = ""
    version: int = Field(ge=0, description="Change stamp of the message (unix ms/seconds).")
    test: bool = False
    sendCount: int = 0
    msg: str = Field(description="URL-encoded JSON: {full_order_info: YouzanFullOrderInfo}.")


class YouzanOrderInfo(_Model):
    tid: str = Field(min_length=1)
    status: str
    created: str
    update_time: str
    pay_time: str | None = None


class YouzanBuyerInfo(_Model):
    buyer_id: int | str | None = None
    yz_open_id: str | None = None
    fans_nickname: str = ""


class YouzanAddressInfo(_Model):
    delivery_province: str = Field(min_length=1)
    delivery_city: str = Field(min_length=1)
    delivery_district: str = ""
    delivery_address: str = Field(min_length=1)
    delivery_postal_code: str = ""
    receiver_name: str = ""
    receiver_tel: str = ""


class YouzanPayInfo(_Model):
    payment: Decimal = Field(ge=0, description="What the buyer pays, yuan ('258.00').")
    total_fee: Decimal | None = None
    post_fee: Decimal | None = None


class YouzanOrderItem(_Model):
    outer_sku_id: str = Field(min_length=1, description="The merchant's SKU code.")
    sku_id: int | str | None = None
    num: int = Field(gt=0, le=MAX_QUANTITY)
    price: Decimal = Field(ge=0, description="Unit price, yuan.")
    title: str = ""


class YouzanFullOrderInfo(_Model):
    order_info: YouzanOrderInfo
    buyer_info: YouzanBuyerInfo = YouzanBuyerInfo()
    address_info: YouzanAddressInfo
    pay_info: YouzanPayInfo
    orders: list[YouzanOrderItem] = Field(min_length=1)


class YouzanMsg(_Model):
    full_order_info: YouzanFullOrderInfo


class YouzanAdapter(AppSignedAdapter):
    name = NAME
    body_model: type[BaseModel] = YouzanPush
    headers = (HEADER_SIGN, HEADER_CLIENT_ID, HEADER_TYPE)
    key_header = HEADER_CLIENT_ID
    sign_header = HEADER_SIGN
    scheme = "Youzan push"
    formula = "MD5(client_id + raw body + client_secret)"
    secret_env = SECRET_ENV
    key_env = ID_ENV

    def translate(self, push: RawPush) -> Translation:
        envelope = validate(YouzanPush, load_json(push.body))
        push_id = event_id(f"{envelope.type}:{envelope.id}:{envelope.version}", field="id")
        if envelope.test:  # the console's "send a test message": acknowledged, not an order
            return Translation(platform=NAME, event_id=push_id)
        msg = validate(YouzanMsg, load_json(unquote(envelope.msg), what="msg"), prefix="msg")
        return Translation(
            platform=NAME, event_id=push_id, snapshots=(to_snapshot(msg.full_order_info),)
        )


def to_snapshot(info: YouzanFullOrderInfo) -> OrderSnapshot:
    prefix = "msg.full_order_info"
    order = info.order_info
    address = info.address_info
    return yuan_snapshot(
        platform=NAME,
        order_id=order.tid,
        status=status_of(STATUS_MAP, order.status, field=f"{prefix}.order_info.status"),
        platform_status=order.status,
        created=Read(order.created, f"{prefix}.order_info.created"),
        updated=Read(order.update_time, f"{prefix}.order_info.update_time"),
        payment=Read(info.pay_info.payment, f"{prefix}.pay_info.payment"),
        buyer=Buyer(
            id=str(info.buyer_info.yz_open_id or info.buyer_info.buyer_id or ""),
            name=info.buyer_info.fans_nickname,
        ),
        address=china_address(
            address.delivery_province,
            address.delivery_city,
            address.delivery_district,
            address.delivery_address,
            postal_code=address.delivery_postal_code,
            recipient_name=address.receiver_name,
            phone=address.receiver_tel,
        ),
        lines=(
            YuanLine(
                item.outer_sku_id,
                item.num,
                Read(item.price, f"{prefix}.orders.{n}.price"),
                item.title,
            )
            for n, item in enumerate(info.orders)
        ),
        paid=Read(order.pay_time, f"{prefix}.order_info.pay_time"),
    )
