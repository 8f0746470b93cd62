"""OrdersService for the refund: the order as orders knows it, and the TCC freeze branch.

A business refusal (FAILED_PRECONDITION, INVALID_ARGUMENT, NOT_FOUND) of the Try is a
``TryRefused`` carrying orders' reason and metadata (e.g. REFUND_EXCEEDS_REFUNDABLE with
``refundable``); a Confirm/Cancel refusal that retrying cannot change is a
``PhaseRefused`` (the transaction is parked); anything else is an unknown outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import grpc.aio
from oms.orders.v1 import order_pb2
from oms.orders.v1 import orders_service_pb2 as pb
from oms.orders.v1 import orders_service_pb2_grpc as pb_grpc
from oms.tcc.v1 import tcc_pb2
from oms.type.v1 import money_pb2, platform_pb2
from omslib.errors import NotFound, Unavailable
from omslib.grpc_errors import remote_error
from omslib.tcc import PhaseRefused, TryRefused

REFUSAL_CODES = frozenset(
    {
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
    }
)
SHIPPED_STATES = frozenset(
    {
        order_pb2.ORDER_STATE_SHIPPED,
        order_pb2.ORDER_STATE_DELIVERED,
        order_pb2.ORDER_STATE_COMPLETED,
    }
)


class OrderNotFound(NotFound):
    reason = "ORDER_NOT_FOUND"


@dataclass(frozen=True)
class OrderFacts:
    """What a refund needs to know of its order."""

    order_id: str
    platform: str
    currency: str
    payment_reference: str
    shipped: bool
    reservation_gid: str
    unit_prices: dict[str, int]  # SKU -> unit price in minor units, as sold


@dataclass(frozen=True)
class FreezePayload:
    order_id: str
    units: int
    currency: str


class OrdersClient:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = pb_grpc.OrdersServiceStub(channel)
        self._timeout = timeout

    async def order(self, order_id: str) -> OrderFacts:
        try:
            reply = await self._stub.GetOrder(
                pb.GetOrderRequest(name=f"orders/{order_id}"), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as err:
            remote = remote_error(err)
            if remote.code == grpc.StatusCode.NOT_FOUND:
                raise OrderNotFound(f"order {order_id} not found") from err
            raise Unavailable(f"orders GetOrder failed: {remote.code.name}") from err
        order = reply.order
        platform = platform_pb2.Platform.Name(order.platform).removeprefix("PLATFORM_").lower()
        return OrderFacts(
            order_id=order.order_id,
            platform=platform,
            currency=order.total.currency_code,
            payment_reference=order.payment.reference,
            shipped=order.state in SHIPPED_STATES or order.HasField("shipment"),
            reservation_gid=order.gid,
            unit_prices={line.sku: line.unit_price.minor_units for line in order.lines},
        )


class OrdersRefundParticipant:
    """Orders' freeze as a branch of the refund TCC (``omslib.tcc.Participant``)."""

    PERMANENT = frozenset({"REFUND_FREEZE_NOT_FOUND", "REFUND_ALREADY_RECORDED"})

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = pb_grpc.OrdersServiceStub(channel)
        self._timeout = timeout

    async def try_(self, gid: str, branch_id: str, payload: FreezePayload) -> int:
        request = pb.TryFreezeRefundRequest(
            tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id),
            order=f"orders/{payload.order_id}",
            amount=money_pb2.Money(minor_units=payload.units, currency_code=payload.currency),
        )
        try:
            reply = await self._stub.TryFreezeRefund(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as err:
            remote = remote_error(err)
            if remote.code in REFUSAL_CODES:
                raise TryRefused(
                    remote.reason or remote.code.name, remote.message, remote.metadata
                ) from err
            raise
        return int(reply.remaining_refundable.minor_units)

    async def confirm(self, gid: str, branch_id: str) -> None:
        request = pb.ConfirmFreezeRefundRequest(
            tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id)
        )
        await self._phase(self._stub.ConfirmFreezeRefund, request)

    async def cancel(self, gid: str, branch_id: str) -> None:
        request = pb.CancelFreezeRefundRequest(tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id))
        await self._phase(self._stub.CancelFreezeRefund, request)

    async def _phase(self, method: object, request: object) -> None:
        try:
            await method(request, timeout=self._timeout)  # type: ignore[operator]
        except grpc.aio.AioRpcError as err:
            remote = remote_error(err)
            if remote.reason in self.PERMANENT:
                raise PhaseRefused(remote.reason or "", remote.message) from err
            raise
