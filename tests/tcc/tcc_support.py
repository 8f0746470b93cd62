"""Helpers for the TCC cross-service tests: talk to orders/inventory over gRPC directly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc
import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp
from oms.inventory.v1 import inventory_pb2, inventory_service_pb2, inventory_service_pb2_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.type.v1 import address_pb2, money_pb2, platform_pb2
from omslib.grpc_errors import remote_error
from omslib.ids import new_id
from omslib.testing.stock import put_stock

CHANNELS = (platform_pb2.PLATFORM_SHOP, platform_pb2.PLATFORM_TAOBAO, platform_pb2.PLATFORM_JD)
RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.CANCELLED,
}
# Answers that mean "not yet" (a Try still running, a concurrent change): ask again.
RETRYABLE_REASONS = {"INVALID_TRANSACTION_TRANSITION", "TRANSACTION_CHANGED_CONCURRENTLY"}


def reason_of(err: grpc.aio.AioRpcError) -> str:
    return remote_error(err).reason or ""


def stamp(when: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


def snapshot(
    platform_order_id: str,
    sku: str,
    quantity: int = 1,
    *,
    platform: int = platform_pb2.PLATFORM_SHOP,
    status: int = order_pb2.PLATFORM_ORDER_STATUS_CREATED,
    version: int = 0,
    now: datetime | None = None,
) -> order_pb2.PlatformOrderSnapshot:
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    return order_pb2.PlatformOrderSnapshot(
        platform=platform,
        platform_order_id=platform_order_id,
        status=status,
        platform_status="pending",
        create_time=stamp(now),
        update_time=stamp(now),
        version=version,
        total=money_pb2.Money(minor_units=1999 * quantity, currency_code="CNY"),
        buyer=order_pb2.Buyer(id="b-1", name="Li Lei"),
        shipping_address=address_pb2.Address(
            province="Zhejiang",
            city="Hangzhou",
            line1="1 West Lake Rd",
            recipient_name="Li Lei",
            phone="13800000000",
        ),
        lines=[
            order_pb2.OrderLine(
                sku=sku,
                quantity=quantity,
                unit_price=money_pb2.Money(minor_units=1999, currency_code="CNY"),
                title=sku.title(),
            )
        ],
    )


async def with_retries(make_call, *, attempts: int = 200, pause: float = 0.2):  # type: ignore[no-untyped-def]
    """Call until it answers (a process may be down or restarting meanwhile)."""
    for attempt in range(attempts):
        try:
            return await make_call()
        except grpc.aio.AioRpcError as err:
            retry = err.code() in RETRYABLE or reason_of(err) in RETRYABLE_REASONS
            if not retry or attempt == attempts - 1:
                raise
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")


async def sync(
    stub: orders_service_pb2_grpc.OrdersServiceStub,
    snap: order_pb2.PlatformOrderSnapshot,
    request_id: str | None = None,
) -> orders_service_pb2.SyncPlatformOrderResponse:
    request = orders_service_pb2.SyncPlatformOrderRequest(
        request_id=request_id or f"test:{new_id()}", snapshot=snap
    )
    return await with_retries(lambda: stub.SyncPlatformOrder(request, timeout=30))


async def set_stock(
    stub: inventory_service_pb2_grpc.InventoryServiceStub, sku: str, on_hand: int, wh: str = "HZ1"
) -> None:
    await put_stock(stub, sku, on_hand, warehouse=wh, note="tcc test stock")


async def availability(
    stub: inventory_service_pb2_grpc.InventoryServiceStub, sku: str
) -> inventory_pb2.Availability:
    reply = await with_retries(
        lambda: stub.GetAvailability(
            inventory_service_pb2.GetAvailabilityRequest(skus=[sku]), timeout=10
        )
    )
    return reply.availabilities[0]


async def all_transactions(stub: orders_service_pb2_grpc.OrdersServiceStub) -> list:  # type: ignore[type-arg]
    out, token = [], ""
    while True:
        request = orders_service_pb2.ListTransactionsRequest(page_size=500, page_token=token)
        reply = await with_retries(
            lambda request=request: stub.ListTransactions(request, timeout=30)
        )
        out.extend(reply.transactions)
        token = reply.next_page_token
        if not token:
            return out


async def all_orders(stub: orders_service_pb2_grpc.OrdersServiceStub) -> list:  # type: ignore[type-arg]
    out, token = [], ""
    while True:
        request = orders_service_pb2.ListOrdersRequest(page_size=500, page_token=token)
        reply = await with_retries(lambda request=request: stub.ListOrders(request, timeout=30))
        out.extend(reply.orders)
        token = reply.next_page_token
        if not token:
            return out
