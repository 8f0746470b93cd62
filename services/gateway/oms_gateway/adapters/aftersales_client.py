"""gRPC client of AftersalesService's intake (``RecordCustomerMessage``, and
``RecordPlatformRefund`` for a marketplace's refund-success push), speaking the gateway's
domain language.

Failures become ``AftersalesUnavailable`` (worth retrying) or ``AftersalesRejected``
(retrying the same message cannot help), as the orders client does for orders.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import grpc
import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp
from oms.aftersales.v1 import aftersales_pb2, aftersales_service_pb2, aftersales_service_pb2_grpc
from oms.type.v1 import money_pb2, platform_pb2
from omslib.grpc_errors import TRANSIENT_CODES, remote_error

from oms_gateway.adapters.snapshot_mapping import PLATFORMS
from oms_gateway.domain.customer_message import CaseKind, CustomerMessage, MessageChannel
from oms_gateway.domain.errors import AftersalesRejected, AftersalesUnavailable
from oms_gateway.service_layer.ports import SyncResult

# ABORTED too: RecordCustomerMessage is idempotent by (channel, request_id) and
# RecordPlatformRefund by the platform's refund id, so a call that lost a race in
# aftersales is safe to send again as it is.
RETRYABLE_CODES = TRANSIENT_CODES | {grpc.StatusCode.ABORTED}

CHANNELS = {
    MessageChannel.PLATFORM_MESSAGE: aftersales_pb2.CHANNEL_PLATFORM_MESSAGE,
    MessageChannel.PLATFORM_AFTERSALE: aftersales_pb2.CHANNEL_PLATFORM_AFTERSALE,
    MessageChannel.WECHAT: aftersales_pb2.CHANNEL_WECHAT,
    MessageChannel.WEB_FORM: aftersales_pb2.CHANNEL_WEB_FORM,
}
CASE_KINDS = {
    CaseKind.REFUND: aftersales_pb2.PLATFORM_CASE_KIND_REFUND,
    CaseKind.RETURN: aftersales_pb2.PLATFORM_CASE_KIND_RETURN,
    CaseKind.DISPUTE: aftersales_pb2.PLATFORM_CASE_KIND_DISPUTE,
}


def message_to_proto(
    message: CustomerMessage,
) -> aftersales_service_pb2.RecordCustomerMessageRequest:
    customer = message.customer
    request = aftersales_service_pb2.RecordCustomerMessageRequest(
        request_id=message.request_id,
        channel=CHANNELS[message.channel],
        merchant_id=message.merchant_id,
        customer=aftersales_pb2.CustomerIdentity(
            platform=PLATFORMS.get(customer.platform, platform_pb2.PLATFORM_UNSPECIFIED),
            buyer_id=customer.buyer_id,
            phone=customer.phone,
            wechat_openid=customer.wechat_openid,
        ),
        order=message.order,
        text=message.text,
    )
    if message.platform_order_id:
        request.platform_order.platform = PLATFORMS.get(
            message.platform, platform_pb2.PLATFORM_UNSPECIFIED
        )
        request.platform_order.platform_order_id = message.platform_order_id
    if message.message_time is not None:
        stamp = Timestamp()
        stamp.FromDatetime(message.message_time)
        request.message_time.CopyFrom(stamp)
    if message.case_id:
        request.platform_case.case_id = message.case_id
        if message.case_kind is not None:
            request.platform_case.kind = CASE_KINDS[message.case_kind]
    return request


def platform_refund_to_proto(
    message: CustomerMessage, ticket_id: str
) -> aftersales_service_pb2.RecordPlatformRefundRequest:
    paid = message.refund_paid
    assert paid is not None, "only a refund-success message records a platform refund"
    return aftersales_service_pb2.RecordPlatformRefundRequest(
        platform_order=aftersales_pb2.PlatformOrderRef(
            platform=PLATFORMS.get(message.platform, platform_pb2.PLATFORM_UNSPECIFIED),
            platform_order_id=message.platform_order_id,
        ),
        platform_refund_id=message.case_id,
        amount=money_pb2.Money(minor_units=paid.amount_minor_units, currency_code=paid.currency),
        ticket=f"tickets/{ticket_id}" if ticket_id else "",
    )


class GrpcAftersalesClient:
    def __init__(self, channel: grpc.aio.Channel, *, deadline_seconds: float) -> None:
        self._stub = aftersales_service_pb2_grpc.AftersalesServiceStub(channel)
        self._deadline = deadline_seconds

    async def record_customer_message(self, message: CustomerMessage) -> SyncResult:
        with _as_domain_errors():
            response = await self._stub.RecordCustomerMessage(
                message_to_proto(message), timeout=self._deadline
            )
        if response.duplicate:
            outcome = "DUPLICATE"
        else:
            outcome = "TICKET_OPENED" if response.ticket_created else "TICKET_UPDATED"
        return SyncResult(order_id=response.ticket.ticket_id, outcome=outcome)

    async def record_platform_refund(self, message: CustomerMessage, ticket_id: str) -> SyncResult:
        with _as_domain_errors():
            response = await self._stub.RecordPlatformRefund(
                platform_refund_to_proto(message, ticket_id), timeout=self._deadline
            )
        outcome = "DUPLICATE" if response.duplicate else "PLATFORM_REFUND_RECORDED"
        return SyncResult(order_id=ticket_id, outcome=outcome)


@contextlib.contextmanager
def _as_domain_errors() -> Iterator[None]:
    """A failed call as ``AftersalesUnavailable`` (retry) or ``AftersalesRejected``."""
    try:
        yield
    except grpc.aio.AioRpcError as exc:
        err = remote_error(exc)
        text = f"{err.code.name}: {err.message}" + (f" [{err.reason}]" if err.reason else "")
        metadata = {"code": err.code.name, **({"reason": err.reason} if err.reason else {})}
        if err.code in RETRYABLE_CODES:
            raise AftersalesUnavailable(text, metadata=metadata) from exc
        raise AftersalesRejected(text, metadata=metadata) from exc
