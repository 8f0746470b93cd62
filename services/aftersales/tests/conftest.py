"""The refund stack: real inventory, orders and aftersales gRPC servers on port 0 (each its
own database), aftersales paying through a real fake payment server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import grpc.aio
import pytest
from fake_payments import FakePayments, running_fake_payments
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from oms.aftersales.v1 import aftersales_service_pb2_grpc as apb_grpc
from oms.inventory.v1 import inventory_service_pb2_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.type.v1 import address_pb2, money_pb2, platform_pb2
from oms_aftersales.domain.classification import Classification
from omslib.grpc_errors import remote_error
from omslib.ids import new_id
from omslib.testing.stock import put_stock

UNIT = 1999


class CalmModel:
    """A deterministic stand-in for the intent model (refund tests never classify)."""

    def classify(self, text: str) -> Classification:
        return Classification("question", "GEN-001", "calm", 0.8)


@dataclass
class RefundStack:
    orders: orders_service_pb2_grpc.OrdersServiceStub
    inventory: inventory_service_pb2_grpc.InventoryServiceStub
    aftersales: apb_grpc.AftersalesServiceStub
    payments: FakePayments
    app: object  # the aftersales bootstrap.Aftersales, to drive its jobs
    aftersales_addr: str = ""

    async def put_stock(self, sku: str, on_hand: int, warehouse: str = "HZ1") -> None:
        await put_stock(self.inventory, sku, on_hand, warehouse=warehouse)

    async def paid_order(
        self,
        order_id: str,
        lines: list[tuple[str, int]],
        *,
        platform: int = platform_pb2.PLATFORM_SHOP,
        shipped: bool = False,
    ) -> order_pb2.Order:
        now = Timestamp()
        now.FromDatetime(datetime.now(UTC).replace(microsecond=0))
        snapshot = order_pb2.PlatformOrderSnapshot(
            platform=platform,
            platform_order_id=order_id,
            status=order_pb2.PLATFORM_ORDER_STATUS_CREATED,
            platform_status="pending",
            create_time=now,
            update_time=now,
            total=money_pb2.Money(minor_units=UNIT * sum(q for _, q in lines), currency_code="CNY"),
            buyer=order_pb2.Buyer(id="b-1", name="Li Lei"),
            shipping_address=address_pb2.Address(
                province="Zhejiang",
                city="Hangzhou",
                line1="1 Lake Rd",
                recipient_name="Li",
                phone="138",
            ),
            lines=[
                order_pb2.OrderLine(
                    sku=sku,
                    quantity=qty,
                    unit_price=money_pb2.Money(minor_units=UNIT, currency_code="CNY"),
                    title=sku.title(),
                )
                for sku, qty in lines
            ],
        )
        order = (
            await self.orders.SyncPlatformOrder(
                orders_service_pb2.SyncPlatformOrderRequest(
                    request_id=f"t:{new_id()}", snapshot=snapshot
                ),
                timeout=15,
            )
        ).order
        order = (
            await self.orders.RecordPayment(
                orders_service_pb2.RecordPaymentRequest(
                    name=order.name, amount=order.total, payment_reference=f"PAY-{order_id}"
                ),
                timeout=15,
            )
        ).order
        if shipped:
            order = (
                await self.orders.RecordShipment(
                    orders_service_pb2.RecordShipmentRequest(
                        name=order.name,
                        shipment=order_pb2.Shipment(carrier="SF", tracking_number=f"SF{order_id}"),
                    ),
                    timeout=15,
                )
            ).order
        return order

    async def order(self, name: str) -> order_pb2.Order:
        return (await self.orders.GetOrder(orders_service_pb2.GetOrderRequest(name=name))).order


@pytest.fixture
def fake_payments() -> Iterator[FakePayments]:
    with running_fake_payments(FakePayments(late_seconds=1.0)) as fake:
        yield fake


@contextlib.asynccontextmanager
async def open_refund_stack(
    make_database_url: Callable[[str], str], redis_url: str, fake_payments: FakePayments
) -> AsyncIterator[RefundStack]:
    from oms_aftersales import bootstrap as aftersales_bootstrap
    from oms_aftersales.config import Settings as AftersalesSettings
    from oms_inventory import bootstrap as inventory_bootstrap
    from oms_inventory.config import Settings as InventorySettings
    from oms_orders import bootstrap as orders_bootstrap
    from oms_orders.config import Settings as OrdersSettings

    inventory = await inventory_bootstrap.start(
        InventorySettings(
            OMS_INVENTORY_PORT=0,
            OMS_INVENTORY_DATABASE_URL=make_database_url("inventory"),
            OMS_REDIS_URL=redis_url,
        )
    )
    orders = await orders_bootstrap.start(
        OrdersSettings(
            OMS_ORDERS_PORT=0,
            OMS_REDIS_URL=redis_url,
            OMS_ORDERS_HOST="127.0.0.1",
            OMS_ORDERS_DATABASE_URL=make_database_url("orders"),
            OMS_INVENTORY_ADDR=f"127.0.0.1:{inventory.port}",
            OMS_ORDERS_INVENTORY_TIMEOUT_SECONDS=5,
        )
    )
    aftersales = await aftersales_bootstrap.start(
        AftersalesSettings(
            OMS_AFTERSALES_PORT=0,
            OMS_AFTERSALES_HOST="127.0.0.1",
            OMS_AFTERSALES_DATABASE_URL=make_database_url("aftersales"),
            OMS_REDIS_URL=redis_url,
            OMS_ORDERS_ADDR=f"127.0.0.1:{orders.port}",
            OMS_INVENTORY_ADDR=f"127.0.0.1:{inventory.port}",
            OMS_AFTERSALES_PAYMENT_API_URL=fake_payments.url,
            OMS_AFTERSALES_PAYMENT_API_KEY=fake_payments.api_key,
            OMS_AFTERSALES_PAYMENT_TIMEOUT_SECONDS=0.5,
            OMS_AFTERSALES_PAYOUT_RETRY_BASE_SECONDS=0.1,
            OMS_AFTERSALES_PAYOUT_INTERVAL_SECONDS=0.1,
            OMS_AFTERSALES_ORDERS_TIMEOUT_SECONDS=10,
            OMS_AFTERSALES_REFUND_AUTO_APPROVE_MAX_MINOR_UNITS=5000,
            OMS_AFTERSALES_PLATFORM_REFUND_OVERDUE_HOURS=0.0003,  # about a second
        ),
        classifier=CalmModel(),
    )
    channels = [
        grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        for port in (orders.port, inventory.port, aftersales.port)
    ]
    try:
        yield RefundStack(
            orders_service_pb2_grpc.OrdersServiceStub(channels[0]),
            inventory_service_pb2_grpc.InventoryServiceStub(channels[1]),
            apb_grpc.AftersalesServiceStub(channels[2]),
            fake_payments,
            aftersales.app,
            f"127.0.0.1:{aftersales.port}",
        )
    finally:
        for channel in channels:
            await channel.close()
        await aftersales.stop(0)
        await orders.stop(0)
        await inventory.stop(0)


@pytest.fixture
async def refund_stack(
    make_database_url: Callable[[str], str], redis_url: str, fake_payments: FakePayments
) -> AsyncIterator[RefundStack]:
    async with open_refund_stack(make_database_url, redis_url, fake_payments) as stack:
        yield stack


@pytest.fixture
def refund_stack_factory() -> Callable[..., contextlib.AbstractAsyncContextManager[RefundStack]]:
    """``open_refund_stack(make_database_url, redis_url, fake)``, for tests with their own loop."""
    return open_refund_stack


def _error_info(err: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    remote = remote_error(err)
    return error_details_pb2.ErrorInfo(
        reason=remote.reason or "", domain=remote.domain or "", metadata=remote.metadata
    )


@pytest.fixture
def error_info() -> Callable[[grpc.aio.AioRpcError], error_details_pb2.ErrorInfo]:
    """``error_info(err)``: the ErrorInfo of a failed call (empty when there is none)."""
    return _error_info
