"""InventoryService over gRPC: translate, delegate to the service layer, translate back."""

from __future__ import annotations

import grpc.aio
from oms.inventory.v1 import inventory_service_pb2 as pb
from oms.inventory.v1 import inventory_service_pb2_grpc as pb_grpc
from oms.tcc.v1 import tcc_pb2
from omslib.telemetry.attributes import SPAN_ATTR_BRANCH, SPAN_ATTR_GID, SPAN_ATTR_ORDER_ID
from opentelemetry import trace

from oms_inventory.adapters import proto_mapping as m
from oms_inventory.domain.reservation import BranchKey, ReserveRequest
from oms_inventory.domain.returns import ExpectReturnRequest
from oms_inventory.service_layer.audit_log import AuditLogService
from oms_inventory.service_layer.reservations import ReservationService
from oms_inventory.service_layer.restock import RestockService
from oms_inventory.service_layer.return_receipts import ReceiptService, ReceiveCommand
from oms_inventory.service_layer.returns import ReturnService
from oms_inventory.service_layer.stock import StockChangeCommand, StockService
from oms_inventory.service_layer.warehouses import WarehouseService

Context = grpc.aio.ServicerContext


class InventoryServicer(pb_grpc.InventoryServiceServicer):
    def __init__(
        self,
        warehouses: WarehouseService,
        stock: StockService,
        audit: AuditLogService,
        reservations: ReservationService,
        restock: RestockService,
        returns: ReturnService,
        receipts: ReceiptService,
    ) -> None:
        self._warehouses = warehouses
        self._stock = stock
        self._audit = audit
        self._reservations = reservations
        self._restock = restock
        self._returns = returns
        self._receipts = receipts

    async def UpsertWarehouse(
        self, request: pb.UpsertWarehouseRequest, context: Context
    ) -> pb.UpsertWarehouseResponse:
        stored = await self._warehouses.upsert(m.warehouse_from_proto(request.warehouse))
        return pb.UpsertWarehouseResponse(warehouse=m.warehouse_to_proto(stored))

    async def ListWarehouses(
        self, request: pb.ListWarehousesRequest, context: Context
    ) -> pb.ListWarehousesResponse:
        found = await self._warehouses.list(include_inactive=request.include_inactive)
        return pb.ListWarehousesResponse(warehouses=[m.warehouse_to_proto(w) for w in found])

    async def SetStock(self, request: pb.SetStockRequest, context: Context) -> pb.SetStockResponse:
        level = await self._stock.set_stock(_command(request, request.on_hand))
        return pb.SetStockResponse(stock=m.stock_to_proto(level))

    async def AdjustStock(
        self, request: pb.AdjustStockRequest, context: Context
    ) -> pb.AdjustStockResponse:
        level = await self._stock.adjust_stock(_command(request, request.delta))
        return pb.AdjustStockResponse(stock=m.stock_to_proto(level))

    async def GetStock(self, request: pb.GetStockRequest, context: Context) -> pb.GetStockResponse:
        level = await self._stock.get_stock(request.sku, request.warehouse_code)
        return pb.GetStockResponse(stock=m.stock_to_proto(level))

    async def GetAvailability(
        self, request: pb.GetAvailabilityRequest, context: Context
    ) -> pb.GetAvailabilityResponse:
        found = await self._stock.availability(list(request.skus))
        return pb.GetAvailabilityResponse(
            availabilities=[m.availability_to_proto(a) for a in found]
        )

    async def ListStockAudit(
        self, request: pb.ListStockAuditRequest, context: Context
    ) -> pb.ListStockAuditResponse:
        page = await self._audit.list(
            sku=request.sku,
            since=m.datetime_or_none(request, "since", request.since),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListStockAuditResponse(
            entries=[m.audit_to_proto(e) for e in page.entries],
            next_page_token=page.next_page_token,
        )

    async def TryReserveStock(
        self, request: pb.TryReserveStockRequest, context: Context
    ) -> pb.TryReserveStockResponse:
        branch = _traced_branch(request.tcc, request.order_id)
        reservation = await self._reservations.try_reserve(
            ReserveRequest.create(
                branch,
                request.order_id,
                [(line.sku, line.quantity) for line in request.lines],
                request.ship_to_province,
                m.datetime_or_none(request, "expire_time", request.expire_time),
            )
        )
        return pb.TryReserveStockResponse(reservation=m.reservation_to_proto(reservation))

    async def ConfirmReserveStock(
        self, request: pb.ConfirmReserveStockRequest, context: Context
    ) -> pb.ConfirmReserveStockResponse:
        reservation = await self._reservations.confirm(_traced_branch(request.tcc))
        _trace_order(reservation.order_id)
        return pb.ConfirmReserveStockResponse(reservation=m.reservation_to_proto(reservation))

    async def CancelReserveStock(
        self, request: pb.CancelReserveStockRequest, context: Context
    ) -> pb.CancelReserveStockResponse:
        reservation = await self._reservations.cancel(_traced_branch(request.tcc))
        if reservation is None:
            return pb.CancelReserveStockResponse()
        _trace_order(reservation.order_id)
        return pb.CancelReserveStockResponse(reservation=m.reservation_to_proto(reservation))

    async def GetReservation(
        self, request: pb.GetReservationRequest, context: Context
    ) -> pb.GetReservationResponse:
        reservation = await self._reservations.get(_traced_branch(request.tcc))
        return pb.GetReservationResponse(reservation=m.reservation_to_proto(reservation))

    async def RestockReservation(
        self, request: pb.RestockReservationRequest, context: Context
    ) -> pb.RestockReservationResponse:
        reservation = await self._restock.restock(_traced_branch(request.tcc), request.reason)
        _trace_order(reservation.order_id)
        return pb.RestockReservationResponse(reservation=m.reservation_to_proto(reservation))

    async def TryExpectReturn(
        self, request: pb.TryExpectReturnRequest, context: Context
    ) -> pb.TryExpectReturnResponse:
        branch = _traced_branch(request.tcc, request.order_id)
        expected = await self._returns.try_expect(
            ExpectReturnRequest.create(
                branch,
                request.order_id,
                request.reservation_gid,
                [(line.sku, line.quantity) for line in request.lines],
            )
        )
        return pb.TryExpectReturnResponse(expected_return=m.expected_return_to_proto(expected))

    async def ConfirmExpectReturn(
        self, request: pb.ConfirmExpectReturnRequest, context: Context
    ) -> pb.ConfirmExpectReturnResponse:
        expected = await self._returns.confirm(_traced_branch(request.tcc))
        _trace_order(expected.order_id)
        return pb.ConfirmExpectReturnResponse(expected_return=m.expected_return_to_proto(expected))

    async def CancelExpectReturn(
        self, request: pb.CancelExpectReturnRequest, context: Context
    ) -> pb.CancelExpectReturnResponse:
        expected = await self._returns.cancel(_traced_branch(request.tcc))
        if expected is None:
            return pb.CancelExpectReturnResponse()
        _trace_order(expected.order_id)
        return pb.CancelExpectReturnResponse(expected_return=m.expected_return_to_proto(expected))

    async def ReceiveReturn(
        self, request: pb.ReceiveReturnRequest, context: Context
    ) -> pb.ReceiveReturnResponse:
        by_branch = request.WhichOneof("target") == "tcc"
        expected = await self._receipts.receive(
            ReceiveCommand(
                branch=_traced_branch(request.tcc) if by_branch else None,
                order_id="" if by_branch else request.order_id,
                warehouse_code=request.warehouse_code,
                lines=[
                    (line.sku, m.condition_from_proto(line.condition), line.quantity)
                    for line in request.lines
                ],
                request_id=request.request_id,
                actor=request.actor,
            )
        )
        _trace_order(expected.order_id)
        return pb.ReceiveReturnResponse(expected_return=m.expected_return_to_proto(expected))

    async def GetExpectedReturn(
        self, request: pb.GetExpectedReturnRequest, context: Context
    ) -> pb.GetExpectedReturnResponse:
        if request.WhichOneof("target") == "tcc":
            found = [await self._returns.get(_traced_branch(request.tcc))]
        else:
            _trace_order(request.order_id)
            found = await self._returns.for_order(m.order_id_from_proto(request.order_id))
        return pb.GetExpectedReturnResponse(
            expected_returns=[m.expected_return_to_proto(e) for e in found]
        )


def _command(
    request: pb.SetStockRequest | pb.AdjustStockRequest, amount: int
) -> StockChangeCommand:
    return StockChangeCommand(
        sku=request.sku,
        warehouse_code=request.warehouse_code,
        amount=amount,
        reason=m.reason_from_proto(request.reason),
        note=request.note,
        actor=request.actor,
        request_id=request.request_id,
    )


def _traced_branch(tcc: tcc_pb2.TccContext, order_id: str = "") -> BranchKey:
    span = trace.get_current_span()
    span.set_attribute(SPAN_ATTR_GID, tcc.gid)
    span.set_attribute(SPAN_ATTR_BRANCH, tcc.branch_id)
    _trace_order(order_id)
    return m.branch_from_proto(tcc)


def _trace_order(order_id: str) -> None:
    if order_id:
        trace.get_current_span().set_attribute(SPAN_ATTR_ORDER_ID, order_id)
