"""Correctly signed sample pushes of the after-sales intake channels (tests,
``oms send-aftersales``): refunds, disputes, WeChat messages and web forms."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from omslib.platforms.china_time import format_china_time
from omslib.platforms.samples import jd, shopify, taobao, youzan
from omslib.platforms.signing.wechat import signature as wechat_signature

Signed = tuple[bytes, dict[str, str]]


def _now(when: datetime | None) -> datetime:
    return (when or datetime.now(UTC)).replace(microsecond=0)


def taobao_refund(
    app_key: str,
    secret: str,
    *,
    message_id: int = 1001,
    tid: str = "3900000000000001",
    refund_id: str = "RF1001",
    topic: str = "taobao_refund_RefundCreated",
    bill_type: str = "refund_bill",
    message: str = "",
    when: datetime | None = None,
) -> tuple[str, bytes, dict[str, str]]:
    """``(query string, body, headers)`` of a signed Qimen push of a TMC refund message."""
    content = {
        "refund_id": refund_id,
        "tid": tid,
        "oid": f"{tid}0",
        "buyer_open_uid": "AAHk5d-EAAeGwJedwSHpg8bT",
        "buyer_nick": "l**",
        "refund_fee": "12.50",
        "bill_type": bill_type,
        "refund_phase": "aftersale",
        "modified": format_china_time(_now(when)),
        "message": message,
    }
    envelope = {
        "topic": topic,
        "id": message_id,
        "pub_time": format_china_time(_now(when)),
        "pub_app_key": app_key,
        "user_id": 2200000001,
        "user_nick": "示例旗舰店",
        "content": json.dumps(content, ensure_ascii=False),
    }
    body = json.dumps(envelope, ensure_ascii=False).encode()
    query = taobao.signed_query(app_key, secret, body, method="taobao.qimen.refund.push")
    return query, body, {"content-type": "application/json"}


def jd_afs(
    app_key: str,
    secret: str,
    *,
    afs_service_id: int = 500001,
    order_id: str = "250000000001",
    expect: int = 10,
    question: str = "收到的商品有破损，要求退货",  # noqa: RUF001
    status: int = 10,
    refund_amount: str | None = None,
    when: datetime | None = None,
) -> Signed:
    """A signed JOS after-sales push (form-encoded body); ``refund_amount`` (yuan) with
    status 50 is JD saying it refunded the buyer."""
    stamp = format_china_time(_now(when))
    service = {
        "afsServiceId": afs_service_id,
        "orderId": order_id,
        "venderId": 10086,
        "customerPin": "jd_buyer_42",
        "customerExpect": expect,
        "questionDesc": question,
        "afsServiceStatus": status,
        "afsApplyTime": stamp,
        "updateTime": stamp,
        **({"refundAmount": refund_amount} if refund_amount is not None else {}),
    }
    body = jd.signed_form(app_key, secret, service, method="jingdong.afs.service.push")
    return body, {"content-type": "application/x-www-form-urlencoded"}


def douyin_aftersale_message(
    msg_id: str,
    *,
    aftersale_id: int = 7100000000000001,
    order_id: str = "6900000000000000101",
    tag: str = "200",
    aftersale_type: int = 0,
    record: str = "买家申请退货退款",
    when: datetime | None = None,
) -> dict[str, Any]:
    """One after-sales message for ``douyin.sample_push`` (mix it with order messages)."""
    data = {
        "aftersale_id": aftersale_id,
        "aftersale_type": aftersale_type,
        "aftersale_status": 6,
        "p_id": order_id,
        "s_id": f"{order_id}1",
        "shop_id": 4463798,
        "refund_amount": 1250,
        "reason_code": 3,
        "latest_record": record,
        "apply_time": int(_now(when).timestamp()),
    }
    return {"tag": tag, "msg_id": msg_id, "data": json.dumps(data, ensure_ascii=False)}


def youzan_refund(
    client_id: str,
    secret: str,
    *,
    tid: str = "E20261124080000000001",
    refund_id: str = "201911251234567",
    event_type: str = "trade_refund_BuyerCreated",
    refund_type: str = "REFUND_AND_RETURN",
    reason: str = "商品质量问题",
    when: datetime | None = None,
) -> Signed:
    now = _now(when)
    refund = {
        "tid": tid,
        "oid": 1234567,
        "refund_id": refund_id,
        "refund_state": "SAFE_NEW",
        "refund_type": refund_type,
        "refund_reason": reason,
        "refunded_fee": "12.50",
        "update_time": format_china_time(now),
        "yz_open_id": "yz-open-42",
    }
    envelope = {
        "client_id": client_id,
        "id": refund_id,
        "kdt_id": 567323,
        "kdt_name": "示例店铺",
        "type": event_type,
        "status": "SAFE_NEW",
        "version": int(now.timestamp() * 1000) or int(time.time() * 1000),
        "test": False,
        "sendCount": 0,
        "msg": quote(json.dumps(refund, ensure_ascii=False)),
    }
    body = json.dumps(envelope, ensure_ascii=False).encode()
    return body, youzan.signed_headers(client_id, secret, body, event_type)


def shopify_refund(
    secret: str, *, webhook_id: str, refund_id: int = 509562969, order_id: int = 450789469
) -> Signed:
    refund = {
        "id": refund_id,
        "order_id": order_id,
        "created_at": "2026-11-24T10:00:00+08:00",
        "note": "Item arrived damaged",
        "refund_line_items": [],
        "transactions": [{"amount": "12.50", "currency": "CNY", "kind": "refund"}],
    }
    body = json.dumps(refund).encode()
    return body, shopify.signed_headers(secret, body, webhook_id=webhook_id, topic="refunds/create")


def shopify_dispute(
    secret: str, *, webhook_id: str, dispute_id: int = 1052608616, order_id: int = 450789469
) -> Signed:
    dispute = {
        "id": dispute_id,
        "order_id": order_id,
        "type": "chargeback",
        "amount": "12.50",
        "currency": "USD",
        "reason": "fraudulent",
        "network_reason_code": "4837",
        "status": "needs_response",
        "evidence_due_by": "2026-12-05T00:00:00Z",
        "initiated_at": "2026-11-24T02:00:00Z",
    }
    body = json.dumps(dispute).encode()
    return body, shopify.signed_headers(
        secret, body, webhook_id=webhook_id, topic="disputes/create"
    )


def wechat_query(
    token: str, *, timestamp: int | None = None, nonce: str = "1946089254"
) -> dict[str, str]:
    """The signed query parameters WeChat puts on its callback URL."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "signature": wechat_signature(token, stamp, nonce),
        "timestamp": stamp,
        "nonce": nonce,
    }


def wechat_text(
    token: str,
    *,
    msg_id: str = "24602657863452350",
    openid: str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    content: str = "这个不想要了，怎么退货",  # noqa: RUF001
    account: str = "gh_0123456789ab",
    when: datetime | None = None,
) -> tuple[str, bytes]:
    """``(query string, XML body)`` of a signed plaintext-mode text message."""
    created = int(_now(when).timestamp())
    xml = (
        f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
    query = {**wechat_query(token), "openid": openid}
    return urlencode(query), xml.encode()


def ticket_form(submission_id: str = "sub-0001-abcd", **fields: str) -> bytes:
    """A valid web-form body (JSON)."""
    form = {
        "submission_id": submission_id,
        "name": "李雷",
        "phone": "+86 138-0000-0000",
        "email": "lilei@example.com",
        "order_id": "3900000000000001",
        "platform": "taobao",
        "text": "快递三天没动了，什么时候能到？",  # noqa: RUF001
        **fields,
    }
    return json.dumps(form, ensure_ascii=False).encode()
