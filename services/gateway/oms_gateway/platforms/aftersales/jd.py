"""JD after-sales service orders (售后服务单), pushed like JD orders: the same JOS
parameters and the same MD5 signature over them.

Assumed: the JOS ``method`` of an after-sales push starts with ``jingdong.afs.`` (e.g.
``jingdong.afs.service.push``); any other method is an order push. ``360buy_param_json``
carries the service order with the field names of JD's after-sales API: ``afsServiceId``,
``orderId``, ``customerPin``, ``customerExpect`` (10 return, 20 exchange, 30 repair; anything
else a refund), ``questionDesc``, ``afsServiceStatus``, ``afsApplyTime`` and ``updateTime``
(``yyyy-MM-dd HH:mm:ss``, UTC+8). JD sends no message id: ``afs:<afsServiceId>:<status>:
<updateTime>`` identifies one. A service order in status 50 (完成) of a refund or return
that carries ``refundAmount`` (yuan) says JD has refunded the buyer: it is also recorded as
the platform's refund (an exchange or repair refunds nothing).
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
from oms_gateway.platforms.common import china_time, event_id, load_json, minor_units, validate
from oms_gateway.platforms.jd import PARAM_JSON, push_params

NAME = "jd"
METHOD_PREFIX = "jingdong.afs."
#: ``customerExpect`` values that send goods back (退货, 换货, 维修).
RETURN_EXPECTS = frozenset({10, 20, 30})
#: ``customerExpect`` values that never refund money (换货, 维修).
NO_MONEY_EXPECTS = frozenset({20, 30})
FINISHED = "50"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class JdAfsService(_Model):
    """The business JSON of a JD after-sales push (``360buy_param_json``)."""

    afsServiceId: int | str
    orderId: int | str
    venderId: int | str | None = None
    customerPin: str = Field("", description="The buyer's (masked) account.")
    customerExpect: int = Field(10, description="10 return, 20 exchange, 30 repair.")
    questionDesc: str = ""
    afsServiceStatus: int | str = ""
    afsApplyTime: str = Field(description="yyyy-MM-dd HH:mm:ss, UTC+8.")
    updateTime: str = ""
    refundAmount: str | int | None = Field(None, description="Yuan, on a finished refund.")


class Reader:
    def translate(self, push: RawPush, orders: OrderTranslation) -> Translation:
        params = push_params(push)
        if not params.get("method", "").startswith(METHOD_PREFIX):
            return orders(push)
        service = validate(
            JdAfsService, load_json(params.get(PARAM_JSON, ""), what=PARAM_JSON), prefix=PARAM_JSON
        )
        stamp = service.updateTime or service.afsApplyTime
        when = china_time(stamp, field=f"{PARAM_JSON}.updateTime")
        compact = stamp.replace("-", "").replace(":", "").replace(" ", "")
        push_id = event_id(
            f"afs:{service.afsServiceId}:{service.afsServiceStatus}:{compact}",
            field=f"{PARAM_JSON}.afsServiceId",
        )
        message = CustomerMessage(
            channel=MessageChannel.PLATFORM_AFTERSALE,
            request_id=request_id(NAME, push_id),
            merchant_id=str(service.venderId or params.get("app_key", ""))[:64],
            customer=CustomerIdentity(platform=NAME, buyer_id=service.customerPin),
            text=bounded_text(service.questionDesc),
            message_time=when,
            topic=params["method"],
            platform=NAME,
            platform_order_id=str(service.orderId),
            case_id=str(service.afsServiceId),
            case_kind=CaseKind.RETURN
            if service.customerExpect in RETURN_EXPECTS
            else CaseKind.REFUND,
            refund_paid=refund_paid(refunded(service)),
        )
        return Translation(platform=NAME, event_id=push_id, messages=(message,))


def refunded(service: JdAfsService) -> int | None:
    """What JD refunded, in fen, when the service order says it finished a refund."""
    finished = str(service.afsServiceStatus) == FINISHED
    if not finished or service.customerExpect in NO_MONEY_EXPECTS or service.refundAmount is None:
        return None
    return minor_units(str(service.refundAmount)[:24], field=f"{PARAM_JSON}.refundAmount")
