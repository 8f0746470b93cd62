"""gRPC client of OrdersService, speaking the gateway's domain language.

gRPC failures become ``OrdersDown`` (unreachable), ``OrdersUnavailable`` (worth
retrying) or ``OrdersRejected`` (retrying the same push cannot help), as classified
in ``orders_errors``.
"""

from __future__ import annotations

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from oms.orders.v1 import orders_service_pb2, orders_service_pb2_grpc
from omslib.grpc_errors import remote_error

from oms_gateway.adapters.orders_errors import is_outage, is_retryable
from oms_gateway.adapters.snapshot_mapping import snapshot_to_proto
from oms_gateway.domain.errors import (
    OrdersDown,
    OrdersRejected,
    OrdersUnavailable,
    OrdersUnreachable,
)
from oms_gateway.domain.snapshot import OrderSnapshot
from oms_gateway.service_layer.ports import SyncResult

ORDERS_SERVICE = "oms.orders.v1.OrdersService"


class GrpcOrdersClient:
    def __init__(self, channel: grpc.aio.Channel, *, deadline_seconds: float) -> None:
        self._stub = orders_service_pb2_grpc.OrdersServiceStub(channel)
        self._health = health_pb2_grpc.HealthStub(channel)
        self._deadline = deadline_seconds

    async def sync_platform_order(self, request_id: str, snapshot: OrderSnapshot) -> SyncResult:
        request = orders_service_pb2.SyncPlatformOrderRequest(
            request_id=request_id, snapshot=snapshot_to_proto(snapshot)
        )
        try:
            response = await self._stub.SyncPlatformOrder(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as exc:
            err = remote_error(exc)
            message = f"{err.code.name}: {err.message}" + (f" [{err.reason}]" if err.reason else "")
            metadata = {"code": err.code.name, **({"reason": err.reason} if err.reason else {})}
            if err.code is grpc.StatusCode.UNAVAILABLE and err.domain is None:
                # Not answered by orders' code (which always sends an ErrorInfo): the
                # channel could not reach the process.
                raise OrdersUnreachable(message, metadata=metadata) from exc
            if is_outage(err.code):
                raise OrdersDown(message, metadata=metadata) from exc
            if is_retryable(err.code, err.reason):
                raise OrdersUnavailable(message, metadata=metadata) from exc
            raise OrdersRejected(message, metadata=metadata) from exc
        outcome = orders_service_pb2.SyncPlatformOrderOutcome.Name(response.outcome)
        return SyncResult(
            order_id=response.order.order_id,
            outcome=outcome.removeprefix("SYNC_PLATFORM_ORDER_OUTCOME_"),
        )

    async def health(self, *, deadline_seconds: float = 2.0) -> str:
        """grpc.health.v1 status of OrdersService ("SERVING", "NOT_SERVING"...) or the RPC error."""
        for service in (ORDERS_SERVICE, ""):
            try:
                reply = await self._health.Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=deadline_seconds
                )
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    continue  # per-service status not registered: ask for the server's
                return f"health check failed: {exc.code().name}"
            return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return "health check failed: NOT_FOUND"
