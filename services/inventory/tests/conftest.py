"""Fixtures: the real inventory service from its bootstrap on port 0, on a real database,
and a Kit of helpers that talk to it only through gRPC."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc.aio
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1 import inventory_service_pb2 as pb
from oms.inventory.v1 import inventory_service_pb2_grpc as pb_grpc
from oms.tcc.v1 import tcc_pb2
from oms_inventory import bootstrap
from oms_inventory.config import Settings
from omslib.grpc_errors import RemoteError, remote_error
from omslib.ids import new_id
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def inventory_settings(database_url: str, **extra: Any) -> Settings:
    return Settings(
        OMS_INVENTORY_DATABASE_URL=database_url,
        OMS_INVENTORY_PORT=0,
        OMS_INVENTORY_HOST="127.0.0.1",
        OMS_SHUTDOWN_GRACE_SECONDS=1.0,
        **extra,
    )


@pytest.fixture
def settings_for() -> Callable[..., Settings]:
    """``settings_for(database_url, **env)``: a service's settings for tests that start one."""
    return inventory_settings


@pytest.fixture
async def inventory(
    make_database_url: Callable[[str], str], redis_url: str, spans: InMemorySpanExporter
) -> AsyncIterator[bootstrap.Running]:
    settings = inventory_settings(make_database_url("inventory"), OMS_REDIS_URL=redis_url)
    running = await bootstrap.start(settings)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def stub(inventory: bootstrap.Running) -> AsyncIterator[pb_grpc.InventoryServiceAsyncStub]:
    async with grpc.aio.insecure_channel(inventory.addr) as channel:
        yield pb_grpc.InventoryServiceStub(channel)


@pytest.fixture
def kit(stub: pb_grpc.InventoryServiceAsyncStub) -> Kit:
    return Kit(stub)


@pytest.fixture
def kit_for() -> Callable[[bootstrap.Running], AbstractAsyncContextManager[Kit]]:
    """``async with kit_for(running) as kit:`` for a service a test started itself."""

    @contextlib.asynccontextmanager
    async def open_kit(running: bootstrap.Running) -> AsyncIterator[Kit]:
        async with grpc.aio.insecure_channel(running.addr) as channel:
            yield Kit(pb_grpc.InventoryServiceStub(channel))

    return open_kit


def tcc(gid: str, branch_id: str = "inventory-01") -> tcc_pb2.TccContext:
    return tcc_pb2.TccContext(gid=gid, branch_id=branch_id)


def in_future(minutes: int = 30) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(UTC) + timedelta(minutes=minutes))
    return stamp


class Kit:
    """Helpers for tests (test modules cannot import each other under importlib mode)."""

    tcc = staticmethod(tcc)
    in_future = staticmethod(in_future)

    def __init__(self, stub: pb_grpc.InventoryServiceAsyncStub) -> None:
        self.stub = stub

    async def warehouse(
        self,
        code: str,
        province: str = "",
        nearby: Sequence[str] = (),
        *,
        active: bool = True,
        city: str = "",
    ) -> ipb.Warehouse:
        reply = await self.stub.UpsertWarehouse(
            pb.UpsertWarehouseRequest(
                warehouse=ipb.Warehouse(
                    code=code,
                    display_name=f"warehouse {code}",
                    province=province,
                    city=city,
                    active=active,
                    nearby_provinces=list(nearby),
                )
            )
        )
        return reply.warehouse

    async def set_stock(self, sku: str, code: str, on_hand: int, **fields: Any) -> ipb.StockLevel:
        fields.setdefault("reason", ipb.ADJUSTMENT_REASON_RECEIVED)
        fields.setdefault("actor", "operator:test")
        fields.setdefault("request_id", new_id())
        reply = await self.stub.SetStock(
            pb.SetStockRequest(sku=sku, warehouse_code=code, on_hand=on_hand, **fields)
        )
        return reply.stock

    async def adjust(self, sku: str, code: str, delta: int, **fields: Any) -> ipb.StockLevel:
        fields.setdefault("reason", ipb.ADJUSTMENT_REASON_RECEIVED)
        fields.setdefault("actor", "operator:test")
        reply = await self.stub.AdjustStock(
            pb.AdjustStockRequest(sku=sku, warehouse_code=code, delta=delta, **fields)
        )
        return reply.stock

    async def stock(self, sku: str, code: str) -> ipb.StockLevel:
        reply = await self.stub.GetStock(pb.GetStockRequest(sku=sku, warehouse_code=code))
        return reply.stock

    async def availability(self, sku: str) -> ipb.Availability:
        reply = await self.stub.GetAvailability(pb.GetAvailabilityRequest(skus=[sku]))
        return reply.availabilities[0]

    async def levels(self, sku: str) -> dict[str, tuple[int, int]]:
        """{warehouse: (on_hand, reserved)} for one SKU."""
        found = await self.availability(sku)
        return {w.warehouse_code: (w.on_hand, w.reserved) for w in found.warehouses}

    async def audit(self, sku: str = "", **fields: Any) -> list[ipb.StockAuditEntry]:
        reply = await self.stub.ListStockAudit(pb.ListStockAuditRequest(sku=sku, **fields))
        return list(reply.entries)

    async def try_reserve(
        self,
        gid: str,
        lines: Sequence[tuple[str, int]],
        province: str = "",
        *,
        branch_id: str = "inventory-01",
        order_id: str = "",
        expire_time: Timestamp | None = None,
    ) -> ipb.Reservation:
        reply = await self.stub.TryReserveStock(
            pb.TryReserveStockRequest(
                tcc=tcc(gid, branch_id),
                order_id=order_id or f"order-{gid}",
                lines=[pb.ReserveLine(sku=sku, quantity=qty) for sku, qty in lines],
                ship_to_province=province,
                expire_time=expire_time or in_future(),
            )
        )
        return reply.reservation

    async def confirm(self, gid: str, branch_id: str = "inventory-01") -> ipb.Reservation:
        reply = await self.stub.ConfirmReserveStock(
            pb.ConfirmReserveStockRequest(tcc=tcc(gid, branch_id))
        )
        return reply.reservation

    async def cancel(
        self, gid: str, branch_id: str = "inventory-01"
    ) -> pb.CancelReserveStockResponse:
        return await self.stub.CancelReserveStock(
            pb.CancelReserveStockRequest(tcc=tcc(gid, branch_id))
        )

    async def restock(
        self,
        gid: str,
        branch_id: str = "inventory-01",
        reason: str = "order cancelled after payment",
    ) -> ipb.Reservation:
        reply = await self.stub.RestockReservation(
            pb.RestockReservationRequest(tcc=tcc(gid, branch_id), reason=reason)
        )
        return reply.reservation

    async def reservation(self, gid: str, branch_id: str = "inventory-01") -> ipb.Reservation:
        reply = await self.stub.GetReservation(pb.GetReservationRequest(tcc=tcc(gid, branch_id)))
        return reply.reservation

    async def expect_return(
        self,
        gid: str,
        lines: Sequence[tuple[str, int]],
        *,
        order_id: str = "o1",
        reservation_gid: str = "g1",
        branch_id: str = "inventory-01",
    ) -> ipb.ExpectedReturn:
        reply = await self.stub.TryExpectReturn(
            pb.TryExpectReturnRequest(
                tcc=tcc(gid, branch_id),
                order_id=order_id,
                reservation_gid=reservation_gid,
                lines=[pb.ExpectReturnLine(sku=sku, quantity=qty) for sku, qty in lines],
            )
        )
        return reply.expected_return

    async def confirm_return(self, gid: str, branch_id: str = "inventory-01") -> ipb.ExpectedReturn:
        reply = await self.stub.ConfirmExpectReturn(
            pb.ConfirmExpectReturnRequest(tcc=tcc(gid, branch_id))
        )
        return reply.expected_return

    async def cancel_return(
        self, gid: str, branch_id: str = "inventory-01"
    ) -> pb.CancelExpectReturnResponse:
        return await self.stub.CancelExpectReturn(
            pb.CancelExpectReturnRequest(tcc=tcc(gid, branch_id))
        )

    async def receive(
        self,
        gid: str,
        warehouse_code: str,
        lines: Sequence[tuple[str, int, int]],
        *,
        request_id: str = "",
        order_id: str = "",
        branch_id: str = "inventory-01",
    ) -> ipb.ExpectedReturn:
        """ReceiveReturn of ``lines`` (sku, quantity, ipb.RETURN_CONDITION_*); by order
        when ``order_id`` is given, else by the branch."""
        target: dict[str, Any] = (
            {"order_id": order_id} if order_id else {"tcc": tcc(gid, branch_id)}
        )
        reply = await self.stub.ReceiveReturn(
            pb.ReceiveReturnRequest(
                **target,
                warehouse_code=warehouse_code,
                lines=[
                    ipb.ReturnReceiptLine(sku=sku, quantity=qty, condition=condition)
                    for sku, qty, condition in lines
                ],
                request_id=request_id or new_id(),
                actor="operator:dock",
            )
        )
        return reply.expected_return

    async def expected_return(
        self, gid: str, branch_id: str = "inventory-01"
    ) -> ipb.ExpectedReturn:
        reply = await self.stub.GetExpectedReturn(
            pb.GetExpectedReturnRequest(tcc=tcc(gid, branch_id))
        )
        return reply.expected_returns[0]

    @staticmethod
    async def refused(call: Awaitable[Any]) -> RemoteError:
        """The RemoteError a call failed with (fails the test if it succeeded)."""
        try:
            await call
        except grpc.aio.AioRpcError as err:
            return remote_error(err)
        raise AssertionError("the call succeeded but should have been refused")

    @staticmethod
    def placed(reservation: ipb.Reservation) -> list[tuple[str, str, int]]:
        return [(i.sku, i.warehouse_code, i.quantity) for i in reservation.items]


@pytest.fixture
async def clocked(make_database_url: Callable[[str], str], redis_url: str) -> AsyncIterator[Any]:
    """The service on a FakeClock (2026-01-01 12:00 UTC), with a Kit: (running, kit, clock)."""
    from omslib.clock import FakeClock

    clock = FakeClock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    settings = inventory_settings(
        make_database_url("inventory"),
        OMS_INVENTORY_EXPIRY_GRACE_SECONDS=60,
        OMS_REDIS_URL=redis_url,
    )
    running = await bootstrap.start(settings, clock=clock)
    try:
        async with grpc.aio.insecure_channel(running.addr) as channel:
            yield running, Kit(pb_grpc.InventoryServiceStub(channel)), clock
    finally:
        await running.stop()
