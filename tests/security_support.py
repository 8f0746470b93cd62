"""Real orders and inventory servers on port 0, secured as a test asks, and raw callers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
from google.protobuf import descriptor as pb_descriptor
from oms.aftersales.v1 import aftersales_service_pb2
from oms.inventory.v1 import inventory_service_pb2
from oms.orders.v1 import orders_service_pb2
from oms_inventory import bootstrap as inventory_bootstrap
from oms_inventory.config import Settings as InventorySettings
from oms_orders import bootstrap as orders_bootstrap
from oms_orders.config import Settings as OrdersSettings

SERVICES: dict[str, pb_descriptor.ServiceDescriptor] = {
    "orders": orders_service_pb2.DESCRIPTOR.services_by_name["OrdersService"],
    "inventory": inventory_service_pb2.DESCRIPTOR.services_by_name["InventoryService"],
    "aftersales": aftersales_service_pb2.DESCRIPTOR.services_by_name["AftersalesService"],
}


@dataclass
class Pair:
    """Inventory and orders (which calls inventory) as running in-process servers."""

    inventory: Any
    orders: Any

    def addr(self, service: str) -> str:
        running = self.orders if service == "orders" else self.inventory
        return f"127.0.0.1:{running.port}"


@contextlib.asynccontextmanager
async def running_pair(
    make_database_url: Callable[[str], str],
    redis_url: str,
    inventory_env: dict[str, str],
    orders_env: dict[str, str],
) -> AsyncIterator[Pair]:
    inventory = await inventory_bootstrap.start(
        InventorySettings(
            OMS_INVENTORY_PORT=0,
            OMS_INVENTORY_DATABASE_URL=make_database_url("inventory"),
            OMS_REDIS_URL=redis_url,
            **inventory_env,
        )
    )
    try:
        orders = await orders_bootstrap.start(
            OrdersSettings(
                OMS_ORDERS_PORT=0,
                OMS_ORDERS_DATABASE_URL=make_database_url("orders"),
                OMS_REDIS_URL=redis_url,
                OMS_INVENTORY_ADDR=f"127.0.0.1:{inventory.port}",
                **orders_env,
            ),
            jobs=False,
        )
        try:
            yield Pair(inventory, orders)
        finally:
            await orders.stop(0)
    finally:
        await inventory.stop(0)


def every_method(service: str) -> Iterator[str]:
    """``/package.Service/Method`` for every RPC of one of our services."""
    descriptor = SERVICES[service]
    for method in descriptor.methods:
        yield f"/{descriptor.full_name}/{method.name}"


async def call_raw(
    channel: grpc.aio.Channel, method: str, body: bytes = b"", metadata: Any = None
) -> grpc.StatusCode:
    """Call ``method`` with a serialized request (empty: every field unset); its status code."""
    try:
        await channel.unary_unary(method)(body, timeout=10, metadata=metadata)
    except grpc.aio.AioRpcError as err:
        return err.code()
    return grpc.StatusCode.OK


def sample_snapshot(order_id: str, sku: str, quantity: int) -> Any:
    """A well-formed web-shop order snapshot of one line (19.99 CNY a unit)."""
    from datetime import UTC, datetime

    from google.protobuf.timestamp_pb2 import Timestamp
    from oms.orders.v1 import order_pb2
    from oms.type.v1 import address_pb2, money_pb2, platform_pb2

    now = Timestamp()
    now.FromDatetime(datetime.now(UTC).replace(microsecond=0))
    return order_pb2.PlatformOrderSnapshot(
        platform=platform_pb2.PLATFORM_SHOP,
        platform_order_id=order_id,
        status=order_pb2.PLATFORM_ORDER_STATUS_CREATED,
        platform_status="pending",
        create_time=now,
        update_time=now,
        total=money_pb2.Money(minor_units=1999 * quantity, currency_code="CNY"),
        buyer=order_pb2.Buyer(id="b-1", name="Li Lei"),
        shipping_address=address_pb2.Address(province="Zhejiang", city="Hangzhou"),
        lines=[
            order_pb2.OrderLine(
                sku=sku,
                quantity=quantity,
                unit_price=money_pb2.Money(minor_units=1999, currency_code="CNY"),
                title="Tee",
            )
        ],
    )


async def put_stock(channel: grpc.aio.Channel, sku: str, on_hand: int) -> None:
    """Create warehouse HZ1 and set ``sku``'s stock there (operator RPCs)."""
    from oms.inventory.v1 import inventory_service_pb2_grpc
    from omslib.testing.stock import put_stock as put

    await put(inventory_service_pb2_grpc.InventoryServiceStub(channel), sku, on_hand)
