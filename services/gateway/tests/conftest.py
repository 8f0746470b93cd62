"""Fixtures: a running gateway (real uvicorn on port 0, real database) and, until the
orders service can be started from its bootstrap here, a small real grpc.aio
OrdersService that records the calls it gets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import httpx
import pytest
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms_gateway.adapters.orm import inbox, rejected_pushes
from oms_gateway.bootstrap import Running, start
from oms_gateway.config import Settings
from omslib.errors import DomainError, InvalidArgument
from omslib.grpc_server import GrpcService
from omslib.platforms.samples.shop import new_secret, sample_shop_order, sign_standard_webhook
from omslib.settings import load_settings
from omslib.testing.polling import eventually
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

ORDERS_SERVICE = "oms.orders.v1.OrdersService"


class RequestIdReused(InvalidArgument):
    """As orders answers a request id that comes back naming another push."""

    reason = "REQUEST_ID_REUSED"


class RecordingOrders(orders_service_pb2_grpc.OrdersServiceServicer):
    """Answers SyncPlatformOrder like orders would and records calls.

    Idempotent by ``request_id``, as orders is: a request id seen before for the same
    push (platform, order, status) gets the earlier answer as DUPLICATE; one naming
    another push is refused (INVALID_ARGUMENT, REQUEST_ID_REUSED). A new request id for
    a known order is ADVANCED when its update time is later than any seen, else STALE.

    ``fail`` (if set) is raised for every call, or for the next ``fail_times`` calls when
    that is set; ``delay`` slows each call down.
    """

    def __init__(self) -> None:
        self.calls: list[orders_service_pb2.SyncPlatformOrderRequest] = []
        self.fail: DomainError | None = None
        self.fail_times: int | None = None
        self.delay = 0.0
        self._orders: dict[tuple[int, str], str] = {}  # (platform, platform order) -> id
        self._updated: dict[tuple[int, str], int] = {}  # ... -> latest update time (ns)
        self._answers: dict[str, tuple[tuple[int, str, int], str]] = {}  # request id -> push

    async def SyncPlatformOrder(
        self,
        request: orders_service_pb2.SyncPlatformOrderRequest,
        context: grpc.aio.ServicerContext,
    ) -> orders_service_pb2.SyncPlatformOrderResponse:
        self.calls.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail is not None and self.fail_times != 0:
            if self.fail_times is not None:
                self.fail_times -= 1
            raise self.fail
        snapshot = request.snapshot
        key = (snapshot.platform, snapshot.platform_order_id)
        push = (*key, snapshot.status)
        if request.request_id in self._answers:
            seen, order_id = self._answers[request.request_id]
            if seen != push:
                raise RequestIdReused(f"request_id {request.request_id!r} named another push")
            return self._answer(
                order_id, key, orders_service_pb2.SYNC_PLATFORM_ORDER_OUTCOME_DUPLICATE
            )
        updated = snapshot.update_time.ToNanoseconds()
        if key not in self._orders:
            outcome = orders_service_pb2.SYNC_PLATFORM_ORDER_OUTCOME_CREATED
            self._orders[key] = f"ord-{len(self._orders) + 1}"
        elif updated > self._updated[key]:
            outcome = orders_service_pb2.SYNC_PLATFORM_ORDER_OUTCOME_ADVANCED
        else:
            outcome = orders_service_pb2.SYNC_PLATFORM_ORDER_OUTCOME_STALE
        self._updated[key] = max(updated, self._updated.get(key, updated))
        if request.request_id:
            self._answers[request.request_id] = (push, self._orders[key])
        return self._answer(self._orders[key], key, outcome)

    @staticmethod
    def _answer(
        order_id: str,
        key: tuple[int, str],
        outcome: orders_service_pb2.SyncPlatformOrderOutcome.ValueType,
    ) -> orders_service_pb2.SyncPlatformOrderResponse:
        return orders_service_pb2.SyncPlatformOrderResponse(
            order=order_pb2.Order(order_id=order_id, platform_order_id=key[1]), outcome=outcome
        )

    def request_ids(self) -> list[str]:
        return [call.request_id for call in self.calls]


async def start_orders(port: int = 0) -> tuple[GrpcService, RecordingOrders]:
    servicer = RecordingOrders()
    service = GrpcService(
        name="fake-orders", host="127.0.0.1", port=port, error_domain="orders.oms"
    )
    service.add(
        orders_service_pb2_grpc.add_OrdersServiceServicer_to_server, servicer, ORDERS_SERVICE
    )
    await service.start()
    return service, servicer


@pytest.fixture
async def orders() -> AsyncIterator[tuple[GrpcService, RecordingOrders]]:
    service, servicer = await start_orders()
    yield service, servicer
    await service.stop(0)


@pytest.fixture
def shop_secret() -> str:
    return new_secret()


def gateway_settings(
    database_url: str, orders_addr: str, secret: str | None, **extra: Any
) -> Settings:
    overrides: dict[str, Any] = {
        "OMS_GATEWAY_DATABASE_URL": database_url,
        "OMS_GATEWAY_PORT": 0,
        "OMS_GATEWAY_HOST": "127.0.0.1",
        "OMS_ORDERS_ADDR": orders_addr,
        "OMS_GATEWAY_RETRY_BASE_SECONDS": 0.05,
        "OMS_GATEWAY_RETRY_CAP_SECONDS": 0.3,
        "OMS_GATEWAY_DELIVERY_SWEEP_SECONDS": 0.1,
        "OMS_GATEWAY_ORDERS_DEADLINE_SECONDS": 2.0,
        "OMS_SHUTDOWN_GRACE_SECONDS": 2.0,
        **extra,
    }
    if secret is not None:
        overrides["OMS_PLATFORM_SHOP_SECRET"] = secret
    return load_settings(Settings, **overrides)


GatewayFactory = Callable[..., Awaitable[Running]]


@pytest.fixture
async def make_gateway(
    make_database_url: Callable[[str], str],
    orders: tuple[GrpcService, RecordingOrders],  # stopped after the gateways
    spans: InMemorySpanExporter,
    redis_url: str,
) -> AsyncIterator[GatewayFactory]:
    started: list[Running] = []

    async def make(
        orders_addr: str, secret: str | None, *, db: str | None = None, **extra: Any
    ) -> Running:
        url = db or make_database_url("gateway")
        # The test's Redis (rate limits, alert events) unless the test names another.
        extra.setdefault("OMS_REDIS_URL", redis_url)
        running = await start(gateway_settings(url, orders_addr, secret, **extra))
        started.append(running)
        return running

    yield make
    for running in reversed(started):
        await running.stop()


@pytest.fixture
async def gateway(
    make_gateway: GatewayFactory,
    orders: tuple[GrpcService, RecordingOrders],
    shop_secret: str,
) -> Running:
    service, _ = orders
    return await make_gateway(f"127.0.0.1:{service.bound_port}", shop_secret)


@pytest.fixture
async def client(gateway: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        yield http


def signed_push(
    secret: str,
    body: dict[str, Any] | bytes,
    *,
    msg_id: str = "msg_1",
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    return raw, sign_standard_webhook(secret, msg_id, stamp, raw)


def order_body(order_id: str = "A1001", **kwargs: Any) -> dict[str, Any]:
    return sample_shop_order(order_id, [("SKU-1", 2)], **kwargs)


async def inbox_rows(running: Running) -> list[Any]:
    async with running.gateway.engine.connect() as conn:
        return list((await conn.execute(select(inbox).order_by(inbox.c.id))).all())


async def rejected_rows(running: Running) -> list[Any]:
    async with running.gateway.engine.connect() as conn:
        return list((await conn.execute(select(rejected_pushes))).all())


class Kit:
    """Helpers for tests (test modules cannot import each other under importlib mode)."""

    signed_push = staticmethod(signed_push)
    order_body = staticmethod(order_body)
    inbox_rows = staticmethod(inbox_rows)
    rejected_rows = staticmethod(rejected_rows)
    eventually = staticmethod(eventually)
    start_orders = staticmethod(start_orders)
    gateway_settings = staticmethod(gateway_settings)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
