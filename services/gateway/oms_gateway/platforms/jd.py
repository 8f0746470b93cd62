"""JD (JOS-style) order pushes.

Parameters ``app_key``, ``method``, ``timestamp`` (``yyyy-MM-dd HH:mm:ss``, UTC+8), ``v``,
``360buy_param_json`` (the business JSON) and ``sign``, sent form-encoded in the body
(``application/x-www-form-urlencoded``) or in the query string. sign = upper hex
MD5(secret + every other non-empty parameter sorted by name as name+value + secret).
Timestamps more than 10 minutes off are refused. ``360buy_param_json`` carries the order
with JD's field names (``orderId``, ``orderState``, ``itemInfoList``, ``consigneeInfo``,
amounts as yuan strings). A push is identified by ``orderId:orderState:modified``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

from omslib.clock import Clock
from omslib.platforms.signing.jd import PARAM_JSON, sign
from pydantic import BaseModel, ConfigDict, Field

from oms_gateway.domain.errors import InvalidSignature, MalformedJson
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Buyer, OrderSnapshot, PlatformOrderStatus, Translation
from oms_gateway.platforms.china_orders import Read, YuanLine, china_address, yuan_snapshot
from oms_gateway.platforms.common import (
    MAX_QUANTITY,
    CredentialedAdapter,
    Credentials,
    check_signed_params,
    event_id,
    load_json,
    query_params,
    same,
    status_of,
    validate,
)

NAME = "jd"
SECRET_ENV = "OMS_PLATFORM_JD_SECRET"
KEY_ENV = "OMS_PLATFORM_JD_KEY"
REQUIRED_PARAMS = ("app_key", "method", "timestamp", PARAM_JSON, "sign")
DEFAULT_TOLERANCE = timedelta(minutes=10)

#: JD ``orderState`` -> canonical status.
STATUS_MAP: dict[str, PlatformOrderStatus] = {
    "WAIT_SELLER_STOCK_OUT": PlatformOrderStatus.PAID,  # 等待出库
    "WAIT_SELLER_DELIVERY": PlatformOrderStatus.PAID,  # 等待发货 (cross-border)
    "POP_ORDER_PAUSE": PlatformOrderStatus.PAID,  # 暂停
    "PAUSE": PlatformOrderStatus.PAID,  # 暂停 (LOC)
    "LOCKED": PlatformOrderStatus.PAID,  # 已锁定
    "SEND_TO_DISTRIBUTION_CENER": PlatformOrderStatus.SHIPPED,  # 发往配送中心 (LBP/SOPL)
    "DISTRIBUTION_CENTER_RECEIVED": PlatformOrderStatus.SHIPPED,  # 配送中心已收货
    "WAIT_GOODS_RECEIVE_CONFIRM": PlatformOrderStatus.SHIPPED,  # 等待确认收货
    "RECEIPTS_CONFIRM": PlatformOrderStatus.DELIVERED,  # 收款确认 (LBP/SOPL)
    "FINISHED_L": PlatformOrderStatus.COMPLETED,  # 完成
    "TRADE_CANCELED": PlatformOrderStatus.CANCELLED,  # 取消
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class JdItem(_Model):
    skuId: str | int
    outerSkuId: str = Field(min_length=1, description="The merchant's SKU code.")
    skuName: str = ""
    jdPrice: Decimal = Field(ge=0, description="Unit price, yuan ('99.00').")
    itemTotal: int = Field(gt=0, le=MAX_QUANTITY, description="Quantity.")


class JdConsignee(_Model):
    fullname: str = ""
    mobile: str = ""
    province: str = Field(min_length=1)
    city: str = Field(min_length=1)
    county: str = ""
    fullAddress: str = Field(min_length=1)


class JdOrder(_Model):
    """The business JSON of a JD order push (``360buy_param_json``)."""

    orderId: str | int
    venderId: str | int | None = None
    orderState: str
    orderStartTime: str = Field(description="yyyy-MM-dd HH:mm:ss, UTC+8.")
    modified: str = Field(description="yyyy-MM-dd HH:mm:ss, UTC+8; the newest snapshot wins.")
    paymentConfirmTime: str | None = None
    orderTotalPrice: Decimal | None = None
    orderSellerPrice: Decimal | None = None
    orderPayment: Decimal = Field(ge=0, description="What the buyer pays, yuan.")
    freightPrice: Decimal | None = None
    pin: str = Field("", description="The buyer's (masked) account.")
    consigneeInfo: JdConsignee
    itemInfoList: list[JdItem] = Field(min_length=1)


class JdPush(_Model):
    """The form parameters of a JOS push (``application/x-www-form-urlencoded``)."""

    app_key: str
    method: str
    timestamp: str
    v: str = "2.0"
    sign: str
    param_json: str = Field(alias="360buy_param_json", description="JSON of JdOrder.")


class JdAdapter(CredentialedAdapter):
    name = NAME
    body_model: type[BaseModel] = JdPush

    def __init__(
        self,
        app_key: str | None,
        secret: str | None,
        *,
        clock: Clock,
        tolerance: timedelta = DEFAULT_TOLERANCE,
    ) -> None:
        self._credentials = Credentials(
            secret=secret, secret_env=SECRET_ENV, key=app_key, key_env=KEY_ENV
        )
        self._clock = clock
        self._tolerance = tolerance

    def verify(self, push: RawPush) -> None:
        app_key, secret = self._credentials.require()
        params = push_params(push)
        check_signed_params(
            params,
            REQUIRED_PARAMS,
            scheme="JOS",
            app_key=app_key,
            key_env=KEY_ENV,
            clock=self._clock,
            tolerance=self._tolerance,
        )
        if not same(params["sign"], sign(secret, params)):
            raise InvalidSignature(
                "sign does not match MD5(secret + sorted name+value pairs + secret) "
                f"(secret from {SECRET_ENV})"
            )

    def translate(self, push: RawPush) -> Translation:
        params = push_params(push)
        order = validate(
            JdOrder, load_json(params.get(PARAM_JSON, ""), what=PARAM_JSON), prefix=PARAM_JSON
        )
        compact = order.modified.replace("-", "").replace(":", "").replace(" ", "")
        push_id = event_id(
            f"{order.orderId}:{order.orderState}:{compact}", field=f"{PARAM_JSON}.orderId"
        )
        return Translation(platform=NAME, event_id=push_id, snapshots=(to_snapshot(order),))


def push_params(push: RawPush) -> dict[str, str]:
    """Query parameters overlaid with the form-encoded body."""
    try:
        form = dict(parse_qsl(push.body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise MalformedJson("the body is not UTF-8 form-encoded parameters") from None
    return {**query_params(push), **form}


def to_snapshot(order: JdOrder) -> OrderSnapshot:
    prefix = PARAM_JSON
    consignee = order.consigneeInfo
    return yuan_snapshot(
        platform=NAME,
        order_id=str(order.orderId),
        status=status_of(STATUS_MAP, order.orderState, field=f"{prefix}.orderState"),
        platform_status=order.orderState,
        created=Read(order.orderStartTime, f"{prefix}.orderStartTime"),
        updated=Read(order.modified, f"{prefix}.modified"),
        payment=Read(order.orderPayment, f"{prefix}.orderPayment"),
        buyer=Buyer(id=order.pin, name=consignee.fullname),
        address=china_address(
            consignee.province,
            consignee.city,
            consignee.county,
            consignee.fullAddress,
            recipient_name=consignee.fullname,
            phone=consignee.mobile,
        ),
        lines=(
            YuanLine(
                item.outerSkuId,
                item.itemTotal,
                Read(item.jdPrice, f"{prefix}.itemInfoList.{n}.jdPrice"),
                item.skuName,
            )
            for n, item in enumerate(order.itemInfoList)
        ),
        paid=Read(order.paymentConfirmTime, f"{prefix}.paymentConfirmTime"),
    )
