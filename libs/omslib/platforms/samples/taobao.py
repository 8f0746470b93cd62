"""Correctly signed sample Taobao (Qimen) pushes (CLI, tests, benchmarks)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from omslib.platforms.china_time import format_china_time
from omslib.platforms.signing.taobao import sign


def signed_query(
    app_key: str,
    secret: str,
    body: bytes,
    *,
    method: str = "taobao.qimen.trade.push",
    sign_method: str = "md5",
    timestamp: datetime | None = None,
    customer_id: str = "c1001",
) -> str:
    """The query string (``?`` not included) of a correctly signed push of ``body``."""
    params = {
        "method": method,
        "app_key": app_key,
        "timestamp": format_china_time(timestamp or datetime.now(UTC)),
        "v": "2.0",
        "sign_method": sign_method,
        "format": "json",
        "customerId": customer_id,
    }
    params["sign"] = sign(secret, params, body)
    return urlencode(params)


_STATUS_FOR_NAME = {
    "pending": "WAIT_BUYER_PAY",
    "paid": "WAIT_SELLER_SEND_GOODS",
    "shipped": "WAIT_BUYER_CONFIRM_GOODS",
    "completed": "TRADE_FINISHED",
    "cancelled": "TRADE_CLOSED",
}
#: The statuses a sample can have (``status=``).
STATUSES = tuple(_STATUS_FOR_NAME)


def sample_trade(
    tid: str,
    skus_and_quantities: Iterable[tuple[str, int]],
    *,
    status: str = "paid",
    unit_price: str = "99.00",
    province: str = "浙江省",
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """A valid push body; ``status``: pending, paid, shipped, completed, cancelled."""
    now = (updated_at or datetime.now(UTC)).astimezone(UTC)
    stamp = format_china_time(now)
    pairs = list(skus_and_quantities)
    total = sum(Decimal(unit_price) * quantity for _, quantity in pairs)
    return {
        "trade": {
            "tid": tid,
            "status": _STATUS_FOR_NAME[status],
            "created": stamp,
            "modified": stamp,
            "pay_time": stamp if status != "pending" else None,
            "payment": f"{total:.2f}",
            "total_fee": f"{total:.2f}",
            "post_fee": "0.00",
            "buyer_open_uid": "AAHk5d-EAAeGwJedwSHpg8bT",
            "buyer_nick": "l**",
            "receiver_state": province,
            "receiver_city": "杭州市",
            "receiver_district": "西湖区",
            "receiver_address": "文三路1号",
            "receiver_zip": "310000",
            "receiver_name": "李雷",
            "receiver_mobile": "138****0000",
            "orders": {
                "order": [
                    {
                        "oid": f"{tid}{n}",
                        "outer_sku_id": sku,
                        "sku_id": 3000 + n,
                        "num_iid": 600000 + n,
                        "title": sku,
                        "num": quantity,
                        "price": unit_price,
                        "payment": f"{Decimal(unit_price) * quantity:.2f}",
                    }
                    for n, (sku, quantity) in enumerate(pairs)
                ]
            },
        }
    }


def sample_push(
    app_key: str,
    secret: str,
    tid: str,
    skus: Iterable[tuple[str, int]],
    *,
    sign_method: str = "md5",
    **kwargs: Any,
) -> tuple[str, bytes, dict[str, str]]:
    """``(query string, body, headers)`` of a correctly signed push."""
    body = json.dumps(sample_trade(tid, skus, **kwargs), ensure_ascii=False).encode()
    query = signed_query(app_key, secret, body, sign_method=sign_method)
    return query, body, {"content-type": "application/json"}
