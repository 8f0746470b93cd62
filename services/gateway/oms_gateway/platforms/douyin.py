"""Douyin shop (Doudian) message push.

Headers ``app-id`` (the app key) and ``event-sign`` = hex MD5(app_key + raw body +
app_secret), compared case-insensitively. The body is a JSON array of messages
``{"tag", "msg_id", "data"}`` where ``data`` is a JSON string; one push may carry several
messages, each stored, deduplicated (on ``msg_id``) and delivered on its own. Order
messages carry the order as in ``order.orderDetail``: amounts in fen, times in unix seconds.
The platform expects ``{"code": 0, "msg": "success"}`` back.
"""

from __future__ import annotations

import hashlib

from omslib.platforms.signing.douyin import HEADER_APP_ID, HEADER_SIGN
from pydantic import BaseModel, ConfigDict, Field, RootModel

from oms_gateway.domain.errors import InvalidPayload
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import (
    Address,
    Buyer,
    Money,
    OrderLine,
    OrderSnapshot,
    PlatformOrderStatus,
    Translation,
)
from oms_gateway.platforms.app_signed import AppSignedAdapter
from oms_gateway.platforms.common import (
    MAX_MINOR_UNITS,
    MAX_QUANTITY,
    event_id,
    load_json,
    status_of,
    unix_time,
    validate,
)

NAME = "douyin"
SECRET_ENV = "OMS_PLATFORM_DOUYIN_SECRET"
KEY_ENV = "OMS_PLATFORM_DOUYIN_KEY"
CURRENCY = "CNY"

#: Order message tags (trade_TradeCreate, ...Paid, ...SellerShip, ...Success, ...Canceled,
#: ...AmountChanged, ...AddressChanged, ...Pending). Other tags are acknowledged and ignored.
ORDER_TAGS: dict[str, str] = {
    "100": "trade_TradeCreate",
    "101": "trade_TradePaid",
    "102": "trade_TradeSellerShip",
    "103": "trade_TradeSuccess",
    "105": "trade_TradeCanceled",
    "106": "trade_TradeAmountChanged",
    "108": "trade_TradeAddressChanged",
    "110": "trade_TradePending",
}

#: Doudian ``order_status`` -> canonical status.
STATUS_MAP: dict[int, PlatformOrderStatus] = {
    1: PlatformOrderStatus.CREATED,  # 待确认/待支付
    105: PlatformOrderStatus.PAID,  # 已支付
    2: PlatformOrderStatus.PAID,  # 备货中
    101: PlatformOrderStatus.SHIPPED,  # 部分发货
    3: PlatformOrderStatus.SHIPPED,  # 已发货
    4: PlatformOrderStatus.CANCELLED,  # 已取消
    5: PlatformOrderStatus.COMPLETED,  # 已完成
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DouyinMessage(_Model):
    tag: str = Field(min_length=1, description="Message type, e.g. 101 (trade_TradePaid).")
    msg_id: str = Field(min_length=1, max_length=200, description="Unique message id.")
    data: str = Field(description="The message as a JSON string (DouyinOrderData for orders).")


class DouyinPush(RootModel[list[DouyinMessage]]):
    """A Doudian push: a JSON array of messages."""


class DouyinName(_Model):
    id: str | int | None = None
    name: str = Field(min_length=1)


class DouyinPostAddr(_Model):
    province: DouyinName
    city: DouyinName
    town: DouyinName | None = None
    street: DouyinName | None = None
    detail: str = Field(min_length=1)


class DouyinSkuOrder(_Model):
    order_id: str = Field(min_length=1, description="The sub-order id.")
    code: str = Field(min_length=1, description="The merchant's SKU code (商家编码).")
    sku_id: int | str | None = None
    product_name: str = ""
    item_num: int = Field(gt=0, le=MAX_QUANTITY)
    origin_amount: int = Field(
        ge=0, le=MAX_MINOR_UNITS, description="Unit price x item_num before discounts, fen."
    )
    pay_amount: int | None = Field(None, ge=0)


class DouyinOrderData(_Model):
    """The ``data`` of an order message (fields of ``order.orderDetail``)."""

    shop_id: int | str
    p_id: str = Field(min_length=1, description="The parent (shop) order id.")
    order_status: int
    order_status_desc: str = ""
    create_time: int = Field(gt=0, description="Unix seconds.")
    update_time: int = Field(gt=0, description="Unix seconds.")
    pay_time: int | None = None
    order_amount: int = Field(ge=0, le=MAX_MINOR_UNITS, description="Fen.")
    pay_amount: int = Field(ge=0, le=MAX_MINOR_UNITS, description="Fen; what the buyer paid.")
    post_amount: int = Field(0, ge=0)
    doudian_open_id: str = ""
    post_receiver: str = ""
    post_tel: str = ""
    post_addr: DouyinPostAddr
    sku_order_list: list[DouyinSkuOrder] = Field(min_length=1)


class DouyinAdapter(AppSignedAdapter):
    name = NAME
    body_model: type[BaseModel] = DouyinPush
    headers = (HEADER_APP_ID, HEADER_SIGN)
    key_header = HEADER_APP_ID
    sign_header = HEADER_SIGN
    scheme = "Douyin push"
    formula = "MD5(app_key + raw body + app_secret)"
    secret_env = SECRET_ENV
    key_env = KEY_ENV

    def translate(self, push: RawPush) -> Translation:
        messages = validate(DouyinPush, load_json(push.body)).root
        if not messages:
            raise InvalidPayload("the push carries no messages", metadata={"field": "body"})
        ids = [event_id(message.msg_id, field=f"{n}.msg_id") for n, message in enumerate(messages)]
        if len(set(ids)) != len(ids):
            raise InvalidPayload("a msg_id appears twice in one push", metadata={"field": "msg_id"})
        snapshots: list[OrderSnapshot] = []
        message_ids: list[str] = []
        for n, message in enumerate(messages):
            if message.tag not in ORDER_TAGS:
                continue
            data = validate(
                DouyinOrderData, load_json(message.data, what=f"{n}.data"), prefix=f"{n}.data"
            )
            snapshots.append(to_snapshot(data, prefix=f"{n}.data"))
            message_ids.append(ids[n])
        return Translation(
            platform=NAME,
            event_id=ids[0] if len(ids) == 1 else batch_id(ids),
            snapshots=tuple(snapshots),
            message_ids=tuple(message_ids),
        )


def batch_id(ids: list[str]) -> str:
    """A stable id for a push of several messages (each is also stored under its own id)."""
    return "batch-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:40]


def to_snapshot(data: DouyinOrderData, *, prefix: str = "data") -> OrderSnapshot:
    status = status_of(STATUS_MAP, data.order_status, field=f"{prefix}.order_status")
    lines = []
    for n, sku in enumerate(data.sku_order_list):
        unit, remainder = divmod(sku.origin_amount, sku.item_num)
        if remainder:
            raise InvalidPayload(
                f"{prefix}.sku_order_list.{n}.origin_amount is not a multiple of item_num",
                metadata={"field": f"{prefix}.sku_order_list.{n}.origin_amount"},
            )
        lines.append(
            OrderLine(
                sku=sku.code,
                quantity=sku.item_num,
                unit_price=Money(unit, CURRENCY),
                title=sku.product_name,
            )
        )
    addr = data.post_addr
    paid = data.pay_time is not None and data.pay_time > 0
    return OrderSnapshot(
        platform=NAME,
        platform_order_id=data.p_id,
        status=status,
        platform_status=str(data.order_status),
        create_time=unix_time(data.create_time, field=f"{prefix}.create_time"),
        update_time=unix_time(data.update_time, field=f"{prefix}.update_time"),
        total=Money(data.pay_amount, CURRENCY),
        buyer=Buyer(id=data.doudian_open_id, name=""),
        shipping_address=Address(
            province=addr.province.name,
            city=addr.city.name,
            district=addr.town.name if addr.town else "",
            line1=" ".join(
                part for part in ((addr.street.name if addr.street else ""), addr.detail) if part
            ),
            recipient_name=data.post_receiver,
            phone=data.post_tel,
            country_code="CN",
        ),
        lines=tuple(lines),
        pay_time=unix_time(data.pay_time, field=f"{prefix}.pay_time")
        if paid and data.pay_time is not None
        else None,
    )
