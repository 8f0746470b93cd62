"""Correctly signed sample Youzan pushes (CLI, tests, benchmarks)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from omslib.platforms.china_time import format_china_time
from omslib.platforms.signing.youzan import sign


def signed_headers(client_id: str, secret: str, body: bytes, event_type: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "Event-Sign": sign(client_id, secret, body),
        "Client-Id": client_id,
        "Event-Type": event_type,
    }


_STATUS_FOR_NAME = {
    "pending": ("WAIT_BUYER_PAY", "trade_TradeCreate"),
    "paid": ("WAIT_SELLER_SEND_GOODS", "trade_TradePaid"),
    "shipped": ("WAIT_BUYER_CONFIRM_GOODS", "trade_TradeSellerShip"),
    "completed": ("TRADE_SUCCESS", "trade_TradeSuccess"),
    "cancelled": ("TRADE_CLOSE", "trade_TradeClose"),
}
#: The statuses a sample can have (``status=``).
STATUSES = tuple(_STATUS_FOR_NAME)


def sample_push_body(
    client_id: str,
    tid: str,
    skus_and_quantities: Iterable[tuple[str, int]],
    *,
    status: str = "paid",
    unit_price: str = "99.00",
    province: str = "浙江省",
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """A valid Youzan push body; ``status``: pending, paid, shipped, completed, cancelled."""
    youzan_status, event_type = _STATUS_FOR_NAME[status]
    now = (updated_at or datetime.now(UTC)).replace(microsecond=0)
    stamp = format_china_time(now)
    pairs = list(skus_and_quantities)
    total = sum(Decimal(unit_price) * quantity for _, quantity in pairs)
    full_order_info = {
        "order_info": {
            "tid": tid,
            "status": youzan_status,
            "created": stamp,
            "update_time": stamp,
            "pay_time": stamp if status != "pending" else None,
        },
        "buyer_info": {"yz_open_id": "yz-open-42", "fans_nickname": "李雷"},
        "address_info": {
            "delivery_province": province,
            "delivery_city": "杭州市",
            "delivery_district": "西湖区",
            "delivery_address": "文三路1号",
            "delivery_postal_code": "310000",
            "receiver_name": "李雷",
            "receiver_tel": "13800000000",
        },
        "pay_info": {"payment": f"{total:.2f}", "total_fee": f"{total:.2f}", "post_fee": "0.00"},
        "orders": [
            {"outer_sku_id": sku, "sku_id": 2000 + n, "num": qty, "price": unit_price, "title": sku}
            for n, (sku, qty) in enumerate(pairs)
        ],
    }
    msg = json.dumps({"full_order_info": full_order_info}, ensure_ascii=False)
    return {
        "client_id": client_id,
        "id": tid,
        "kdt_id": 567323,
        "kdt_name": "示例店铺",
        "type": event_type,
        "status": youzan_status,
        "version": int(now.timestamp() * 1000) or int(time.time() * 1000),
        "test": False,
        "sendCount": 0,
        "msg": quote(msg),
    }


def sample_push(
    client_id: str, secret: str, tid: str, skus: Iterable[tuple[str, int]], **kwargs: Any
) -> tuple[bytes, dict[str, str]]:
    body_dict = sample_push_body(client_id, tid, skus, **kwargs)
    body = json.dumps(body_dict, ensure_ascii=False).encode()
    return body, signed_headers(client_id, secret, body, body_dict["type"])
