"""Real servers on port 0: the inventory service (its own database) and orders pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc.aio
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from oms.inventory.v1 import inventory_pb2, inventory_service_pb2, inventory_service_pb2_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.type.v1 import address_pb2, money_pb2, platform_pb2
from oms_orders import bootstrap as orders_bootstrap
from oms_orders.config import Settings as OrdersSettings
from omslib.grpc_errors import remote_error
from omslib.ids import new_id
from omslib.testing.stock import put_stock as put_stock_through


@dataclass
class InventoryProcess:
    """The real inventory service, restartable on the same port and database."""

    database_url: str
    redis_url: str
    port: int = 0
    running: Any = None

    async def start(self) -> None:
        from oms_inventory import bootstrap
        from oms_inventory.config import Settings

        settings = Settings(
            OMS_INVENTORY_PORT=self.port,
            OMS_INVENTORY_DATABASE_URL=self.database_url,
            OMS_REDIS_URL=self.redis_url,
        )
        self.running = await bootstrap.start(settings)
        self.port = self.running.port

    async def stop(self) -> None:
        if self.running is not None:
            running, self.running = self.running, None
            await running.stop()

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
async def inventory(
    make_database_url: Callable[[str], str], redis_url: str
) -> AsyncIterator[InventoryProcess]:
    process = InventoryProcess(make_database_url("inventory"), redis_url)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture
async def inventory_stub(
    inventory: InventoryProcess,
) -> AsyncIterator[inventory_service_pb2_grpc.InventoryServiceStub]:
    async with grpc.aio.insecure_channel(inventory.addr) as channel:
        yield inventory_service_pb2_grpc.InventoryServiceStub(channel)


@pytest.fixture
async def orders(
    inventory: InventoryProcess, make_database_url: Callable[[str], str], redis_url: str
) -> AsyncIterator[orders_bootstrap.Running]:
    settings = OrdersSettings(
        OMS_ORDERS_PORT=0,
        OMS_REDIS_URL=redis_url,
        OMS_ORDERS_HOST="127.0.0.1",
        OMS_ORDERS_DATABASE_URL=make_database_url("orders"),
        OMS_INVENTORY_ADDR=inventory.addr,
        # Generous: under a loaded CI machine a 2 s Confirm can time out and leave
        # the order PAID for the recovery loop, which these tests do not wait for.
        OMS_ORDERS_INVENTORY_TIMEOUT_SECONDS=5,
    )
    running = await orders_bootstrap.start(settings)
    try:
        yield running
    finally:
        await running.stop(0)


@pytest.fixture
async def orders_stub(
    orders: orders_bootstrap.Running,
) -> AsyncIterator[orders_service_pb2_grpc.OrdersServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{orders.port}") as channel:
        yield orders_service_pb2_grpc.OrdersServiceStub(channel)


StockFn = Callable[..., Awaitable[None]]
AvailabilityFn = Callable[[str], Awaitable[inventory_pb2.Availability]]


@pytest.fixture
def put_stock(inventory_stub: inventory_service_pb2_grpc.InventoryServiceStub) -> StockFn:
    """``await put_stock(sku, on_hand, warehouse="HZ1")`` through the inventory API."""

    async def put(sku: str, on_hand: int, warehouse: str = "HZ1") -> None:
        await put_stock_through(inventory_stub, sku, on_hand, warehouse=warehouse)

    return put


@pytest.fixture
def available(inventory_stub: inventory_service_pb2_grpc.InventoryServiceStub) -> AvailabilityFn:
    """``await available(sku)``: the SKU's availability as inventory reports it."""

    async def get(sku: str) -> inventory_pb2.Availability:
        request = inventory_service_pb2.GetAvailabilityRequest(skus=[sku])
        reply = await inventory_stub.GetAvailability(request)
        return reply.availabilities[0]

    return get


SnapshotFn = Callable[..., order_pb2.PlatformOrderSnapshot]
SyncFn = Callable[..., Awaitable[orders_service_pb2.SyncPlatformOrderResponse]]


def _stamp(when: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


def _snapshot(
    order_id: str,
    lines: list[tuple[str, int]],
    *,
    update_time: datetime | None = None,
    platform: int = platform_pb2.PLATFORM_SHOP,
    status: int = order_pb2.PLATFORM_ORDER_STATUS_CREATED,
    version: int = 0,
) -> order_pb2.PlatformOrderSnapshot:
    now = datetime.now(UTC).replace(microsecond=0)
    return order_pb2.PlatformOrderSnapshot(
        platform=platform,
        platform_order_id=order_id,
        status=status,
        platform_status="pending",
        create_time=_stamp(now),
        update_time=_stamp(update_time or now),
        version=version,
        total=money_pb2.Money(minor_units=1999 * sum(q for _, q in lines), currency_code="CNY"),
        buyer=order_pb2.Buyer(id="b-1", name="Li Lei"),
        shipping_address=address_pb2.Address(province="Zhejiang", city="Hangzhou"),
        lines=[
            order_pb2.OrderLine(
                sku=sku,
                quantity=qty,
                unit_price=money_pb2.Money(minor_units=1999, currency_code="CNY"),
                title=sku.title(),
            )
            for sku, qty in lines
        ],
    )


@pytest.fixture
def make_snapshot() -> SnapshotFn:
    """``make_snapshot(order_id, [(sku, qty)], update_time=, platform=, status=, version=)``."""
    return _snapshot


@pytest.fixture
def sync(orders_stub: orders_service_pb2_grpc.OrdersServiceStub) -> SyncFn:
    """``await sync(snapshot, request_id=None)``; a fresh request id unless given."""

    async def call(
        snap: order_pb2.PlatformOrderSnapshot, request_id: str | None = None
    ) -> orders_service_pb2.SyncPlatformOrderResponse:
        request = orders_service_pb2.SyncPlatformOrderRequest(
            request_id=request_id or f"shop:{new_id()}", snapshot=snap
        )
        return await orders_stub.SyncPlatformOrder(request, timeout=15)

    return call


@pytest.fixture
def reason_of() -> Callable[[grpc.aio.AioRpcError], str]:
    """The ErrorInfo reason of a failed call ("" when there is none)."""

    def reason(err: grpc.aio.AioRpcError) -> str:
        return remote_error(err).reason or ""

    return reason


@dataclass
class Clocked:
    running: orders_bootstrap.Running
    stub: orders_service_pb2_grpc.OrdersServiceStub
    clock: Any


@pytest.fixture
async def clocked_orders(
    inventory: InventoryProcess, make_database_url: Callable[[str], str], redis_url: str
) -> AsyncIterator[Clocked]:
    """Orders on a FakeClock (starting now), background jobs off (tests drive them); the
    outbox relay runs."""
    from omslib.clock import FakeClock

    settings = OrdersSettings(
        OMS_ORDERS_PORT=0,
        OMS_REDIS_URL=redis_url,
        OMS_ORDERS_HOST="127.0.0.1",
        OMS_ORDERS_DATABASE_URL=make_database_url("orders"),
        OMS_INVENTORY_ADDR=inventory.addr,
        # Generous: under a loaded CI machine a 2 s Confirm can time out and leave
        # the order PAID for the recovery loop, which these tests do not wait for.
        OMS_ORDERS_INVENTORY_TIMEOUT_SECONDS=5,
        OMS_ORDERS_PAYMENT_DEADLINE_BY_PLATFORM='{"taobao": 15}',
        OMS_ORDERS_BUYER_BLOCKLIST='["bad-buyer"]',
        OMS_ORDERS_TCC_MAX_ATTEMPTS=3,
    )
    clock = FakeClock(datetime.now(UTC))
    running = await orders_bootstrap.start(settings, clock=clock, jobs=False)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield Clocked(running, orders_service_pb2_grpc.OrdersServiceStub(channel), clock)
    finally:
        await running.stop(0)


@pytest.fixture
def pay_request() -> Callable[..., orders_service_pb2.RecordPaymentRequest]:
    """``pay_request(order, reference="PAY-1", **fields)``: RecordPayment of the full total."""

    def make(
        order: order_pb2.Order, reference: str = "PAY-1", **fields: Any
    ) -> orders_service_pb2.RecordPaymentRequest:
        return orders_service_pb2.RecordPaymentRequest(
            name=order.name, amount=order.total, payment_reference=reference, **fields
        )

    return make


@pytest.fixture
def ship_request() -> Callable[..., orders_service_pb2.RecordShipmentRequest]:
    """``ship_request(order, tracking="SF100", **fields)``: RecordShipment with carrier SF."""

    def make(
        order: order_pb2.Order, tracking: str = "SF100", **fields: Any
    ) -> orders_service_pb2.RecordShipmentRequest:
        return orders_service_pb2.RecordShipmentRequest(
            name=order.name,
            shipment=order_pb2.Shipment(carrier="SF", tracking_number=tracking),
            **fields,
        )

    return make
