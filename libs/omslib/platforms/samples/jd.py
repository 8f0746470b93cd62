"""Correctly signed sample JD (JOS) pushes (CLI, tests, benchmarks)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from omslib.platforms.china_time import format_china_time
from omslib.platforms.signing.jd import PARAM_JSON, sign


def signed_form(
    app_key: str,
    secret: str,
    order: Mapping[str, Any],
    *,
    method: str = "jingdong.pop.order.push",
    timestamp: datetime | None = None,
    timestamp_text: str | None = None,
) -> bytes:
    """The form-encoded body of a correctly signed push of ``order``.

    ``timestamp_text`` sends the timestamp exactly as given (e.g. the newer SDKs'
    ``yyyy-MM-dd HH:mm:ss.SSS+0800``) instead of formatting ``timestamp``.
    """
    params = {
        "app_key": app_key,
        "method": method,
        "timestamp": timestamp_text or format_china_time(timestamp or datetime.now(UTC)),
        "v": "2.0",
        PARAM_JSON: json.dumps(order, ensure_ascii=False, separators=(",", ":")),
    }
    params["sign"] = sign(secret, params)
    return urlencode(params).encode()


_STATUS_FOR_NAME = {
    "paid": "WAIT_SELLER_STOCK_OUT",
    "shipped": "WAIT_GOODS_RECEIVE_CONFIRM",
    "completed": "FINISHED_L",
    "cancelled": "TRADE_CANCELED",
}
#: The statuses a sample can have (``status=``).
STATUSES = tuple(_STATUS_FOR_NAME)


def sample_order(
    order_id: str,
    skus_and_quantities: Iterable[tuple[str, int]],
    *,
    status: str = "paid",
    unit_price: str = "99.00",
    province: str = "浙江",
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """A valid ``360buy_param_json``; ``status``: paid, shipped, completed, cancelled."""
    stamp = format_china_time(updated_at or datetime.now(UTC))
    pairs = list(skus_and_quantities)
    total = sum(Decimal(unit_price) * quantity for _, quantity in pairs)
    return {
        "orderId": order_id,
        "venderId": "10001",
        "orderState": _STATUS_FOR_NAME[status],
        "orderStartTime": stamp,
        "modified": stamp,
        "paymentConfirmTime": stamp,
        "orderTotalPrice": f"{total:.2f}",
        "orderSellerPrice": f"{total:.2f}",
        "orderPayment": f"{total:.2f}",
        "freightPrice": "0.00",
        "pin": "jd_buyer***",
        "consigneeInfo": {
            "fullname": "李雷",
            "mobile": "138****0000",
            "province": province,
            "city": "杭州市",
            "county": "西湖区",
            "fullAddress": "浙江杭州市西湖区文三路1号",
        },
        "itemInfoList": [
            {
                "skuId": str(4000 + n),
                "outerSkuId": sku,
                "skuName": sku,
                "jdPrice": unit_price,
                "itemTotal": str(quantity),
            }
            for n, (sku, quantity) in enumerate(pairs)
        ],
    }


def sample_push(
    app_key: str, secret: str, order_id: str, skus: Iterable[tuple[str, int]], **kwargs: Any
) -> tuple[bytes, dict[str, str]]:
    body = signed_form(app_key, secret, sample_order(order_id, skus, **kwargs))
    return body, {"content-type": "application/x-www-form-urlencoded"}
