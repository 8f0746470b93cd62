"""Sample Pinduoduo WebSocket frames (tests)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from omslib.platforms.china_time import format_china_time

_STATUS_FOR_NAME = {
    "paid": (1, 1, "pdd_trade_TradeConfirmed"),
    "shipped": (2, 1, "pdd_trade_TradeSellerShip"),
    "delivered": (3, 1, "pdd_trade_TradeSuccess"),
    "cancelled": (1, 4, "pdd_refund_RefundSuccess"),
}
#: The statuses a sample can have (``status=``).
STATUSES = tuple(_STATUS_FOR_NAME)


def sample_frame(
    message_id: int,
    order_sn: str,
    skus_and_quantities: Iterable[tuple[str, int]],
    *,
    status: str = "paid",
    unit_price: str = "99.00",
    province: str = "浙江省",
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """A Common frame; ``status``: paid, shipped, delivered, cancelled."""
    order_status, refund_status, message_type = _STATUS_FOR_NAME[status]
    stamp = format_china_time(updated_at or datetime.now(UTC))
    pairs = list(skus_and_quantities)
    total = sum(Decimal(unit_price) * quantity for _, quantity in pairs)
    content = {
        "order_sn": order_sn,
        "order_status": order_status,
        "refund_status": refund_status,
        "created_time": stamp,
        "updated_at": stamp,
        "confirm_time": stamp,
        "pay_amount": f"{total:.2f}",
        "goods_amount": f"{total:.2f}",
        "postage": "0.00",
        "province": province,
        "city": "杭州市",
        "town": "西湖区",
        "address": "文三路1号",
        "receiver_name": "李雷",
        "receiver_phone": "138****0000",
        "item_list": [
            {
                "outer_id": sku,
                "sku_id": 5000 + n,
                "goods_id": 7000 + n,
                "goods_name": sku,
                "goods_count": quantity,
                "goods_price": unit_price,
            }
            for n, (sku, quantity) in enumerate(pairs)
        ],
    }
    return {
        "commandType": "Common",
        "id": message_id,
        "sendTime": int(time.time() * 1000),
        "message": {
            "type": message_type,
            "mallID": 889900,
            "content": json.dumps(content, ensure_ascii=False),
        },
    }
