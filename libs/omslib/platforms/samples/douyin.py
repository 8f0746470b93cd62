"""Correctly signed sample Douyin pushes (CLI, tests, benchmarks)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from omslib.platforms.signing.douyin import HEADER_APP_ID, HEADER_SIGN, sign


def signed_headers(app_key: str, secret: str, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        HEADER_APP_ID: app_key,
        HEADER_SIGN: sign(app_key, secret, body),
    }


_STATUS_FOR_NAME = {
    "pending": (1, "100"),
    "paid": (2, "101"),
    "shipped": (3, "102"),
    "completed": (5, "103"),
    "cancelled": (4, "105"),
}
#: The statuses a sample can have (``status=``).
STATUSES = tuple(_STATUS_FOR_NAME)


def sample_order_data(
    order_id: str,
    skus_and_quantities: Iterable[tuple[str, int]],
    *,
    status: str = "paid",
    unit_price: int = 9900,
    province: str = "浙江省",
    updated_at: int | None = None,
) -> dict[str, Any]:
    """The ``data`` of an order message; ``status``: pending, paid, shipped, completed,
    cancelled."""
    order_status, _ = _STATUS_FOR_NAME[status]
    now = updated_at or int(time.time())
    pairs = list(skus_and_quantities)
    total = sum(unit_price * quantity for _, quantity in pairs)
    return {
        "shop_id": 4463798,
        "p_id": order_id,
        "order_status": order_status,
        "order_status_desc": status,
        "create_time": now,
        "update_time": now,
        "pay_time": now if order_status != 1 else 0,
        "order_amount": total,
        "pay_amount": total,
        "post_amount": 0,
        "doudian_open_id": "1@#buyer-open-id",
        "post_receiver": "李雷",
        "post_tel": "138****0000",
        "post_addr": {
            "province": {"id": "33", "name": province},
            "city": {"id": "330100", "name": "杭州市"},
            "town": {"id": "330106", "name": "西湖区"},
            "street": {"id": "330106001", "name": "北山街道"},
            "detail": "文三路1号",
        },
        "sku_order_list": [
            {
                "order_id": f"{order_id}{n}",
                "code": sku,
                "sku_id": 1000 + n,
                "product_name": sku,
                "item_num": quantity,
                "origin_amount": unit_price * quantity,
                "pay_amount": unit_price * quantity,
            }
            for n, (sku, quantity) in enumerate(pairs)
        ],
    }


def sample_message(msg_id: str, data: dict[str, Any], *, tag: str | None = None) -> dict[str, Any]:
    status_tag = {code: tag for code, tag in _STATUS_FOR_NAME.values()}
    return {
        "tag": tag or status_tag.get(data["order_status"], "101"),
        "msg_id": msg_id,
        "data": json.dumps(data, ensure_ascii=False),
    }


def sample_push(
    app_key: str, secret: str, messages: list[dict[str, Any]]
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(messages, ensure_ascii=False).encode()
    return body, signed_headers(app_key, secret, body)
