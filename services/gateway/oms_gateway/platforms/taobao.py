"""Taobao/Tmall trade pushes through Qimen (HTTP push with a signed query string).

Query parameters ``method``, ``app_key``, ``timestamp`` (``yyyy-MM-dd HH:mm:ss``, UTC+8),
``v``, ``sign_method``, ``format``, ``customerId`` and ``sign``. Let S be every parameter
except ``sign`` and the empty ones, sorted by name, concatenated as name+value, followed
by the raw body. ``sign_method=md5``: sign = upper hex MD5(secret + S + secret);
``hmac-sha256``: upper hex HMAC-SHA256(secret, S). Timestamps more than 10 minutes off
are refused. The body (``format=json``) is ``{"trade": Trade}`` with Taobao's trade fields:
amounts are yuan strings, times ``yyyy-MM-dd HH:mm:ss`` in UTC+8. Qimen pushes carry no
message id: ``tid:status:modified`` identifies one. Qimen expects
``{"response": {"flag": "success", "code": "0", "message": "..."}}`` back.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from omslib.clock import Clock
from omslib.platforms.signing.taobao import sign
from pydantic import BaseModel, ConfigDict, Field

from oms_gateway.domain.errors import InvalidSignature
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

NAME = "taobao"
SECRET_ENV = "OMS_PLATFORM_TAOBAO_SECRET"
KEY_ENV = "OMS_PLATFORM_TAOBAO_KEY"
REQUIRED_PARAMS = ("method", "app_key", "timestamp", "sign_method", "sign")
SIGN_METHODS = ("md5", "hmac-sha256")
DEFAULT_TOLERANCE = timedelta(minutes=10)

#: Taobao trade ``status`` -> canonical status.
STATUS_MAP: dict[str, PlatformOrderStatus] = {
    "TRADE_NO_CREATE_PAY": PlatformOrderStatus.CREATED,
    "WAIT_BUYER_PAY": PlatformOrderStatus.CREATED,
    "PAY_PENDING": PlatformOrderStatus.CREATED,
    "WAIT_PRE_AUTH_CONFIRM": PlatformOrderStatus.CREATED,
    "WAIT_SELLER_SEND_GOODS": PlatformOrderStatus.PAID,
    "PAID_FORBID_CONSIGN": PlatformOrderStatus.PAID,
    "SELLER_CONSIGNED_PART": PlatformOrderStatus.PAID,
    "WAIT_BUYER_CONFIRM_GOODS": PlatformOrderStatus.SHIPPED,
    "TRADE_BUYER_SIGNED": PlatformOrderStatus.DELIVERED,
    "TRADE_FINISHED": PlatformOrderStatus.COMPLETED,
    "TRADE_CLOSED": PlatformOrderStatus.CANCELLED,
    "TRADE_CLOSED_BY_TAOBAO": PlatformOrderStatus.CANCELLED,
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TaobaoOrder(_Model):
    oid: int | str
    outer_sku_id: str = Field(min_length=1, description="The merchant's SKU code.")
    sku_id: int | str | None = None
    num_iid: int | str | None = None
    title: str = ""
    num: int = Field(gt=0, le=MAX_QUANTITY)
    price: Decimal = Field(ge=0, description="Unit price, yuan ('99.00').")
    payment: Decimal | None = None


class TaobaoOrders(_Model):
    order: list[TaobaoOrder] = Field(min_length=1)


class TaobaoTrade(_Model):
    tid: int | str
    status: str
    created: str = Field(description="yyyy-MM-dd HH:mm:ss, UTC+8.")
    modified: str = Field(description="yyyy-MM-dd HH:mm:ss, UTC+8; the newest snapshot wins.")
    pay_time: str | None = None
    payment: Decimal = Field(ge=0, description="What the buyer pays, yuan.")
    total_fee: Decimal | None = None
    post_fee: Decimal | None = None
    buyer_open_uid: str = ""
    buyer_nick: str = ""
    receiver_state: str = Field(min_length=1, description="The buyer's province.")
    receiver_city: str = Field(min_length=1)
    receiver_district: str = ""
    receiver_address: str = Field(min_length=1)
    receiver_zip: str = ""
    receiver_name: str = ""
    receiver_mobile: str = ""
    orders: TaobaoOrders


class TaobaoTradePush(_Model):
    """A Qimen trade push body (``format=json``)."""

    trade: TaobaoTrade


class TaobaoAdapter(CredentialedAdapter):
    name = NAME
    body_model: type[BaseModel] = TaobaoTradePush

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

    def acknowledge(self, *, inbox_id: str, duplicate: bool) -> tuple[int, dict[str, Any]]:
        message = "duplicate" if duplicate else "accepted"
        return 200, {"response": {"flag": "success", "code": "0", "message": message}}

    def verify(self, push: RawPush) -> None:
        app_key, secret = self._credentials.require()
        params = query_params(push)
        check_signed_params(
            params,
            REQUIRED_PARAMS,
            scheme="Qimen query",
            app_key=app_key,
            key_env=KEY_ENV,
            clock=self._clock,
            tolerance=self._tolerance,
        )
        method = params["sign_method"].lower()
        if method not in SIGN_METHODS:
            raise InvalidSignature(
                f"sign_method {params['sign_method'][:20]!r} is not supported; use md5 or "
                "hmac-sha256"
            )
        if not same(params["sign"], sign(secret, params, push.body)):
            raise InvalidSignature(
                "sign does not match the sorted parameters and the raw body "
                f"(sign_method {method}, secret from {SECRET_ENV})"
            )

    def translate(self, push: RawPush) -> Translation:
        trade = validate(TaobaoTradePush, load_json(push.body)).trade
        compact = trade.modified.replace("-", "").replace(":", "").replace(" ", "")
        push_id = event_id(f"{trade.tid}:{trade.status}:{compact}", field="trade.tid")
        return Translation(platform=NAME, event_id=push_id, snapshots=(to_snapshot(trade),))


def to_snapshot(trade: TaobaoTrade) -> OrderSnapshot:
    return yuan_snapshot(
        platform=NAME,
        order_id=str(trade.tid),
        status=status_of(STATUS_MAP, trade.status, field="trade.status"),
        platform_status=trade.status,
        created=Read(trade.created, "trade.created"),
        updated=Read(trade.modified, "trade.modified"),
        payment=Read(trade.payment, "trade.payment"),
        buyer=Buyer(id=trade.buyer_open_uid, name=trade.buyer_nick),
        address=china_address(
            trade.receiver_state,
            trade.receiver_city,
            trade.receiver_district,
            trade.receiver_address,
            postal_code=trade.receiver_zip,
            recipient_name=trade.receiver_name,
            phone=trade.receiver_mobile,
        ),
        lines=(
            YuanLine(o.outer_sku_id, o.num, Read(o.price, f"trade.orders.order.{n}.price"), o.title)
            for n, o in enumerate(trade.orders.order)
        ),
        paid=Read(trade.pay_time, "trade.pay_time"),
    )
