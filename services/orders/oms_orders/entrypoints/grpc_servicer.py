"""OrdersService over gRPC: translate a request into a command, hand it to its handler,
translate the order back. The refund-freeze methods are orders' side of the refund TCC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC
from typing import TypeVar

import grpc
import grpc.aio
from oms.orders.v1 import orders_service_pb2 as pb
from oms.orders.v1 import orders_service_pb2_grpc as pb_grpc
from oms.type.v1 import platform_pb2

from oms_orders.adapters import order_messages as msg
from oms_orders.domain.errors import InvalidRequest
from oms_orders.entrypoints import proto_mapping as m
from oms_orders.service_layer import commands as c
from oms_orders.service_layer.handlers import OrderHandlers
from oms_orders.service_layer.queries import OrderQueries
from oms_orders.service_layer.refund_freeze import RefundFreezes
from oms_orders.service_layer.sync_platform_order import PlatformOrderSync, SyncPlatformOrder

E = TypeVar("E")


class OrdersServicer(pb_grpc.OrdersServiceServicer):
    def __init__(
        self,
        sync: PlatformOrderSync,
        queries: OrderQueries,
        handlers: OrderHandlers,
        refunds: RefundFreezes,
    ) -> None:
        self._sync = sync
        self._queries = queries
        self._handlers = handlers
        self._refunds = refunds

    async def _order_id(self, name: str) -> str:
        return await self._queries.order_id(name)

    async def CancelOrder(
        self, request: pb.CancelOrderRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelOrderResponse:
        order = await self._handlers.cancel(
            c.CancelOrder(
                await self._order_id(request.name),
                reason=request.reason or "cancelled by request",
                request_id=request.request_id,
            )
        )
        return pb.CancelOrderResponse(order=msg.order_to_proto(order))

    async def RecordPayment(
        self, request: pb.RecordPaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordPaymentResponse:
        order = await self._handlers.pay(
            c.RecordPayment(
                await self._order_id(request.name),
                amount=m.required_money(request, "amount"),
                reference=m.required_text(request, "payment_reference"),
                pay_time=m.optional_time(request, "pay_time"),
                request_id=request.request_id,
            )
        )
        return pb.RecordPaymentResponse(order=msg.order_to_proto(order))

    async def RecordShipment(
        self, request: pb.RecordShipmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordShipmentResponse:
        shipment = request.shipment
        order = await self._handlers.ship(
            c.RecordShipment(
                await self._order_id(request.name),
                carrier=m.required_text(shipment, "carrier", "shipment.carrier"),
                tracking_number=m.required_text(
                    shipment, "tracking_number", "shipment.tracking_number"
                ),
                ship_time=m.optional_time(shipment, "ship_time"),
                request_id=request.request_id,
            )
        )
        return pb.RecordShipmentResponse(order=msg.order_to_proto(order))

    async def ApproveOrder(
        self, request: pb.ApproveOrderRequest, context: grpc.aio.ServicerContext
    ) -> pb.ApproveOrderResponse:
        order = await self._handlers.approve(
            c.ApproveOrder(
                await self._order_id(request.name),
                note=request.note,
                operator=request.operator or "operator",
                request_id=request.request_id,
            )
        )
        return pb.ApproveOrderResponse(order=msg.order_to_proto(order))

    async def RejectOrder(
        self, request: pb.RejectOrderRequest, context: grpc.aio.ServicerContext
    ) -> pb.RejectOrderResponse:
        order = await self._handlers.reject(
            c.RejectOrder(
                await self._order_id(request.name),
                reason=request.reason,
                operator=request.operator or "operator",
                request_id=request.request_id,
            )
        )
        return pb.RejectOrderResponse(order=msg.order_to_proto(order))

    async def RetryTransaction(
        self, request: pb.RetryTransactionRequest, context: grpc.aio.ServicerContext
    ) -> pb.RetryTransactionResponse:
        tx = await self._handlers.coordinator.retry(
            request.gid, operator=request.operator or "operator"
        )
        return pb.RetryTransactionResponse(transaction=m.transaction_to_proto(tx))

    async def TryFreezeRefund(
        self, request: pb.TryFreezeRefundRequest, context: grpc.aio.ServicerContext
    ) -> pb.TryFreezeRefundResponse:
        left = await self._refunds.try_freeze(
            request.tcc.gid,
            request.tcc.branch_id,
            await self._order_id(request.order),
            m.required_money(request, "amount"),
        )
        return pb.TryFreezeRefundResponse(remaining_refundable=msg.money_to_proto(left))

    async def ConfirmFreezeRefund(
        self, request: pb.ConfirmFreezeRefundRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConfirmFreezeRefundResponse:
        await self._refunds.confirm(request.tcc.gid, request.tcc.branch_id)
        return pb.ConfirmFreezeRefundResponse()

    async def CancelFreezeRefund(
        self, request: pb.CancelFreezeRefundRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelFreezeRefundResponse:
        await self._refunds.cancel(request.tcc.gid, request.tcc.branch_id)
        return pb.CancelFreezeRefundResponse()

    async def GetFlowMetrics(
        self, request: pb.GetFlowMetricsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetFlowMetricsResponse:
        since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
        platform = None
        if request.platform != platform_pb2.PLATFORM_UNSPECIFIED:
            platform = _known(m.platform_from_proto, [request.platform], "platform")[0]
        stages, open_by_state = await self._queries.flow_metrics(since=since, platform=platform)
        reply = pb.GetFlowMetricsResponse(open_by_state=open_by_state)
        for s in stages:
            stage = reply.stages.add(
                from_state=msg.order_state_to_proto(s.from_state),
                to_state=msg.order_state_to_proto(s.to_state),
                count=s.count,
            )
            stage.mean.FromTimedelta(s.mean)
            stage.p50.FromTimedelta(s.p50)
            stage.p95.FromTimedelta(s.p95)
        return reply

    async def SyncPlatformOrder(
        self, request: pb.SyncPlatformOrderRequest, context: grpc.aio.ServicerContext
    ) -> pb.SyncPlatformOrderResponse:
        result = await self._sync(
            SyncPlatformOrder(request.request_id, m.snapshot_from_proto(request.snapshot))
        )
        return pb.SyncPlatformOrderResponse(
            order=msg.order_to_proto(result.order), outcome=m.outcome_to_proto(result.outcome)
        )

    async def GetOrder(
        self, request: pb.GetOrderRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetOrderResponse:
        order = await self._queries.get_order(request.name)
        return pb.GetOrderResponse(order=msg.order_to_proto(order))

    async def ListOrders(
        self, request: pb.ListOrdersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOrdersResponse:
        platform = None
        if request.platform != platform_pb2.PLATFORM_UNSPECIFIED:
            platform = _known(m.platform_from_proto, [request.platform], "platform")[0]
        page = await self._queries.list_orders(
            states=_known(m.order_state_from_proto, request.states, "states"),
            platform=platform,
            size=request.page_size,
            token=request.page_token,
        )
        return pb.ListOrdersResponse(
            orders=[msg.order_to_proto(o) for o in page.items],
            next_page_token=page.next_page_token,
        )

    async def ListTransactions(
        self, request: pb.ListTransactionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTransactionsResponse:
        page = await self._queries.list_transactions(
            states=_known(m.transaction_state_from_proto, request.states, "states"),
            size=request.page_size,
            token=request.page_token,
        )
        return pb.ListTransactionsResponse(
            transactions=[m.transaction_to_proto(t) for t in page.items],
            next_page_token=page.next_page_token,
        )

    async def GetTransaction(
        self, request: pb.GetTransactionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTransactionResponse:
        tx = await self._queries.get_transaction(request.gid)
        return pb.GetTransactionResponse(transaction=m.transaction_to_proto(tx))


def _known(convert: Callable[[int], E | None], values: Iterable[int], field: str) -> list[E]:
    """Convert enum numbers; unspecified or unknown values are INVALID_ARGUMENT."""
    converted = []
    for value in values:
        item = convert(value)
        if item is None:
            raise InvalidRequest(f"{field}: unsupported value {value}", metadata={"field": field})
        converted.append(item)
    return converted
