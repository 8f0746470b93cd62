"""The tests' fake orders answers a repeated request id as orders does, so the gateway's
tests exercise the same idempotency contract as production."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.type.v1 import platform_pb2

Outcome = orders_service_pb2.SyncPlatformOrderOutcome
T0 = 1_740_000_000  # 2025-02-19


def _request(
    request_id: str, order: str, status: int, updated: int
) -> orders_service_pb2.SyncPlatformOrderRequest:
    snapshot = order_pb2.PlatformOrderSnapshot(
        platform=platform_pb2.PLATFORM_SHOP,
        platform_order_id=order,
        status=status,
        lines=[order_pb2.OrderLine(sku="TEE", quantity=1)],
    )
    snapshot.create_time.FromSeconds(T0)
    snapshot.update_time.FromSeconds(T0 + updated)
    return orders_service_pb2.SyncPlatformOrderRequest(request_id=request_id, snapshot=snapshot)


async def test_a_request_id_is_answered_once_and_refused_for_another_push(orders: Any) -> None:
    service, _ = orders
    created, paid = order_pb2.PLATFORM_ORDER_STATUS_CREATED, order_pb2.PLATFORM_ORDER_STATUS_PAID
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_port}") as channel:
        sync = orders_service_pb2_grpc.OrdersServiceStub(channel).SyncPlatformOrder
        first = await sync(_request("shop:m-1", "A1", created, 100))
        again = await sync(_request("shop:m-1", "A1", created, 160))  # read again later
        newer = await sync(_request("shop:m-2", "A1", paid, 200))
        older = await sync(_request("shop:m-3", "A1", created, 150))
        with pytest.raises(grpc.aio.AioRpcError) as reused:
            await sync(_request("shop:m-1", "B7", created, 100))
    assert first.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_CREATED
    assert again.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_DUPLICATE
    assert again.order.order_id == first.order.order_id
    assert newer.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_ADVANCED
    assert older.outcome == Outcome.SYNC_PLATFORM_ORDER_OUTCOME_STALE
    assert reused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
