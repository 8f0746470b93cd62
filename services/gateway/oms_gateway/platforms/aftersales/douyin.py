"""Douyin shop (Doudian) after-sales messages, pushed in the same signed batches as order
messages (``event-sign`` over the whole body).

Tags 200-299 are after-sales messages (200 refund created, 201 refund agreed, 202 return
agreed, 203 buyer returned goods, 204 refund refused, 205 return refused, 206 refund
succeeded, 207 refund closed, 208 buyer modified the request; others in the range are taken
as updates of the case). Their ``data`` (JSON string) carries ``aftersale_id``,
``aftersale_type`` (0 return, 1 refund after shipment, 2 refund before shipment, 3 exchange),
``aftersale_status``, ``p_id`` (the order), ``s_id``, ``shop_id``, ``refund_amount`` (fen),
``reason_code``, ``latest_record`` and the time of the change (``apply_time``,
``modify_time``, ``agree_time``, ``success_time``... unix seconds). The message's ``msg_id``
identifies it. Doudian names no buyer in these messages: the order does. Tag 206 (refund
succeeded) is also recorded as the platform's refund of ``refund_amount``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from oms_gateway.domain.customer_message import (
    CaseKind,
    CustomerIdentity,
    CustomerMessage,
    MessageChannel,
    bounded_text,
    refund_paid,
    request_id,
)
from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation
from oms_gateway.platforms.aftersales.routing_types import OrderTranslation
from oms_gateway.platforms.common import load_json, unix_time, validate

NAME = "douyin"
TAGS = {
    "200": "refund_RefundCreated",
    "201": "refund_RefundAgreed",
    "202": "refund_ReturnApplyAgreed",
    "203": "refund_BuyerReturnGoods",
    "204": "refund_RefundRefused",
    "205": "refund_ReturnApplyRefused",
    "206": "refund_RefundSuccess",
    "207": "refund_RefundClosed",
    "208": "refund_RefundModified",
}
REFUND_SUCCESS_TAG = "206"
#: ``aftersale_type`` values that send goods back (退货, 换货).
RETURN_TYPES = frozenset({0, 3})
TIME_FIELDS = ("modify_time", "apply_time", "agree_time", "success_time", "close_time")


def is_aftersale_tag(tag: str) -> bool:
    return tag.isdigit() and 200 <= int(tag) <= 299


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DouyinAftersaleData(_Model):
    """The ``data`` of an after-sales message."""

    aftersale_id: int | str
    aftersale_type: int = Field(1, description="0 return, 1/2 refund, 3 exchange.")
    aftersale_status: int | None = None
    p_id: int | str = Field(description="The parent (shop) order id.")
    s_id: int | str | None = None
    shop_id: int | str | None = None
    refund_amount: int | None = Field(None, ge=0, description="Fen.")
    reason_code: int | None = None
    latest_record: str = ""
    apply_time: int | None = None
    modify_time: int | None = None
    agree_time: int | None = None
    success_time: int | None = None
    close_time: int | None = None


class Reader:
    def translate(self, push: RawPush, orders: OrderTranslation) -> Translation:
        base = orders(push)  # validates the batch; order messages become snapshots
        # The batch's shape is checked by now: plain JSON is enough to find the after-sales
        # tags (most pushes have none, and Douyin is the busiest feed).
        batch: list[dict[str, str]] = load_json(push.body)
        ids: list[str] = []
        messages: list[CustomerMessage] = []
        for n, item in enumerate(batch):
            if not is_aftersale_tag(item["tag"]):
                continue
            prefix = f"{n}.data"
            data = validate(
                DouyinAftersaleData, load_json(item["data"], what=prefix), prefix=prefix
            )
            msg_id = item["msg_id"].strip()
            ids.append(msg_id)
            messages.append(to_message(item["tag"], msg_id, data, prefix=prefix))
        if not messages:
            return base
        return Translation(
            platform=NAME,
            event_id=base.event_id,
            snapshots=base.snapshots,
            message_ids=base.message_ids + tuple(ids),
            messages=tuple(messages),
        )


def to_message(tag: str, msg_id: str, data: DouyinAftersaleData, *, prefix: str) -> CustomerMessage:
    stamp = next((getattr(data, name) for name in TIME_FIELDS if getattr(data, name)), None)
    return CustomerMessage(
        channel=MessageChannel.PLATFORM_AFTERSALE,
        request_id=request_id(NAME, msg_id),
        merchant_id=str(data.shop_id or "")[:64],
        customer=CustomerIdentity(platform=NAME),
        text=bounded_text(data.latest_record),
        message_time=unix_time(stamp, field=f"{prefix}.modify_time") if stamp else None,
        topic=TAGS.get(tag, f"tag {tag}"),
        platform=NAME,
        platform_order_id=str(data.p_id),
        case_id=str(data.aftersale_id),
        case_kind=CaseKind.RETURN if data.aftersale_type in RETURN_TYPES else CaseKind.REFUND,
        refund_paid=refund_paid(data.refund_amount) if tag == REFUND_SUCCESS_TAG else None,
    )
