"""The refund RPCs of AftersalesService: translate, delegate to RefundService."""

from __future__ import annotations

import grpc
from oms.aftersales.v1 import aftersales_service_pb2 as pb

from oms_aftersales.adapters import proto_mapping as m
from oms_aftersales.adapters import refund_mapping as rm
from oms_aftersales.adapters.inventory_client import Receipt
from oms_aftersales.domain.errors import InvalidRequest
from oms_aftersales.domain.refund import ReturnLine
from oms_aftersales.service_layer.platform_refunds import PlatformOrder, PlatformRefunds
from oms_aftersales.service_layer.refunds import RefundRequest, RefundService

Ctx = grpc.aio.ServicerContext
DEFAULT_PAGE = 50


def _refund_id(name: str) -> str:
    refund_id = name.removeprefix(rm.REFUNDS)
    if not name.startswith(rm.REFUNDS) or not refund_id.isalnum() or len(refund_id) > 26:
        raise InvalidRequest(f"name must be 'refunds/{{refund_id}}', got {name[:60]!r}")
    return refund_id


class RefundRpcs:
    """Mixed into AftersalesServicer; ``self._refunds`` is the RefundService."""

    _refunds: RefundService
    _platform_refunds: PlatformRefunds

    async def RequestRefund(
        self, request: pb.RequestRefundRequest, context: Ctx
    ) -> pb.RequestRefundResponse:
        priced = request.HasField("amount")
        currency = request.amount.currency_code or request.shipping_amount.currency_code
        if priced and not request.amount.currency_code:
            raise InvalidRequest("amount needs its currency_code")
        if request.HasField("shipping_amount") and request.shipping_amount.currency_code not in (
            "",
            currency,
        ):
            raise InvalidRequest("shipping_amount must be in the currency of amount")
        refund, duplicate = await self._refunds.request(
            RefundRequest(
                request_id=request.request_id,
                order_id=request.order.removeprefix("orders/"),
                ticket_id=request.ticket.removeprefix("tickets/"),
                currency=currency,
                amount=request.amount.minor_units if priced else None,
                shipping=request.shipping_amount.minor_units,
                return_lines=[
                    ReturnLine(x.sku, x.quantity, x.warehouse_code) for x in request.return_lines
                ],
                reason=request.reason,
                actor=request.actor,
            )
        )
        return pb.RequestRefundResponse(refund=rm.refund_to_proto(refund), duplicate=duplicate)

    async def GetRefund(self, request: pb.GetRefundRequest, context: Ctx) -> pb.GetRefundResponse:
        refund, trail = await self._refunds.get_with_audit(_refund_id(request.name))
        return pb.GetRefundResponse(
            refund=rm.refund_to_proto(refund), audit=[rm.audit_to_proto(a) for a in trail]
        )

    async def ListRefunds(
        self, request: pb.ListRefundsRequest, context: Ctx
    ) -> pb.ListRefundsResponse:
        state = rm.state_from_proto(request.state)
        refunds, token = await self._refunds.page(
            order_id=request.order.removeprefix("orders/"),
            ticket_id=request.ticket.removeprefix("tickets/"),
            state=state.value if state else "",
            page_size=request.page_size or DEFAULT_PAGE,
            token=request.page_token,
        )
        return pb.ListRefundsResponse(
            refunds=[rm.refund_to_proto(r) for r in refunds], next_page_token=token
        )

    async def ApproveRefund(
        self, request: pb.ApproveRefundRequest, context: Ctx
    ) -> pb.ApproveRefundResponse:
        refund = await self._refunds.approve(
            _refund_id(request.name), request.operator, request.note
        )
        return pb.ApproveRefundResponse(refund=rm.refund_to_proto(refund))

    async def RejectRefund(
        self, request: pb.RejectRefundRequest, context: Ctx
    ) -> pb.RejectRefundResponse:
        refund = await self._refunds.reject(
            _refund_id(request.name), request.operator, request.reason
        )
        return pb.RejectRefundResponse(refund=rm.refund_to_proto(refund))

    async def CancelRefund(
        self, request: pb.CancelRefundRequest, context: Ctx
    ) -> pb.CancelRefundResponse:
        refund = await self._refunds.cancel(
            _refund_id(request.name), request.operator, request.reason
        )
        return pb.CancelRefundResponse(refund=rm.refund_to_proto(refund))

    async def ReceiveReturn(
        self, request: pb.ReceiveReturnRequest, context: Ctx
    ) -> pb.ReceiveReturnResponse:
        receipt = Receipt(
            warehouse_code=request.warehouse_code,
            lines=[(x.sku, x.quantity, x.damaged) for x in request.lines],
            request_id=request.request_id,
            actor=request.actor,
        )
        refund = await self._refunds.receive(_refund_id(request.name), receipt)
        return pb.ReceiveReturnResponse(refund=rm.refund_to_proto(refund))

    async def RecordPlatformRefund(
        self, request: pb.RecordPlatformRefundRequest, context: Ctx
    ) -> pb.RecordPlatformRefundResponse:
        ref = request.platform_order
        order = (
            PlatformOrder(m.platform_from_proto(ref.platform), ref.platform_order_id)
            if request.HasField("platform_order")
            else request.order.removeprefix("orders/")
        )
        refund, duplicate = await self._platform_refunds.record(
            order,
            request.platform_refund_id,
            request.amount.minor_units,
            request.amount.currency_code,
            ticket_id=request.ticket.removeprefix("tickets/"),
        )
        return pb.RecordPlatformRefundResponse(
            refund=rm.refund_to_proto(refund), duplicate=duplicate
        )

    async def GetRefundTransaction(
        self, request: pb.GetRefundTransactionRequest, context: Ctx
    ) -> pb.GetRefundTransactionResponse:
        tx = await self._refunds.transaction(_refund_id(request.name))
        return pb.GetRefundTransactionResponse(transaction=rm.transaction_to_proto(tx))

    async def RetryRefundTransaction(
        self, request: pb.RetryRefundTransactionRequest, context: Ctx
    ) -> pb.RetryRefundTransactionResponse:
        tx = await self._refunds.retry_transaction(_refund_id(request.name), request.operator)
        return pb.RetryRefundTransactionResponse(transaction=rm.transaction_to_proto(tx))
