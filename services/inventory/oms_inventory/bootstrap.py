"""Composition root: builds the engine, the use cases and the gRPC server, and runs them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import redis.asyncio
from oms.inventory.v1 import inventory_service_pb2_grpc as pb_grpc
from omslib.clock import Clock, SystemClock
from omslib.db import create_engine, session_factory, single_writer_options, upgrade_schema
from omslib.grpc_server import GrpcService
from omslib.grpc_server.serve import serve, service_server
from omslib.outbox import OutboxNotifier, OutboxRelay, relay_settings
from omslib.redis_conn import connect
from omslib.tcc import run_purge_loop
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from oms_inventory.adapters import orm
from oms_inventory.adapters.barrier import BARRIER
from oms_inventory.adapters.unit_of_work import InventoryUnitOfWork
from oms_inventory.adapters.warehouse_repository import WarehouseCache
from oms_inventory.channel_sync.runner import ChannelSync
from oms_inventory.config import Settings
from oms_inventory.entrypoints.grpc_servicer import InventoryServicer
from oms_inventory.service_layer.audit_log import AuditLogService
from oms_inventory.service_layer.channel_snapshot import AvailabilitySnapshot
from oms_inventory.service_layer.deps import Deps
from oms_inventory.service_layer.expiry import ExpiryJob
from oms_inventory.service_layer.reservations import ReservationService
from oms_inventory.service_layer.restock import RestockService
from oms_inventory.service_layer.return_receipts import ReceiptService
from oms_inventory.service_layer.returns import ReturnService
from oms_inventory.service_layer.stock import StockService
from oms_inventory.service_layer.warehouses import WarehouseService

SERVICE_NAME = "inventory"
ERROR_DOMAIN = "inventory.oms"
FULL_SERVICE_NAME = "oms.inventory.v1.InventoryService"
MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)


@dataclass
class Inventory:
    """Everything wired; nothing started yet."""

    settings: Settings
    engine: AsyncEngine
    deps: Deps
    reservations: ReservationService
    server: GrpcService
    expiry: ExpiryJob
    sessions: async_sessionmaker[AsyncSession]
    redis: redis.asyncio.Redis
    relay: OutboxRelay
    channel_sync: ChannelSync | None = None
    jobs: list[asyncio.Task[None]] = field(default_factory=list)
    relay_task: asyncio.Task[None] | None = None

    def start_jobs(self) -> None:
        """Background jobs: the outbox relay, channel sync (when configured), the
        expiry backstop and the barrier purge."""
        s = self.settings
        self.relay_task = asyncio.create_task(self.relay.run())
        if self.channel_sync is not None:
            self.channel_sync.start()
        self.jobs.append(
            asyncio.create_task(
                self.expiry.run_forever(timedelta(seconds=s.expiry_interval_seconds))
            )
        )
        self.jobs.append(
            asyncio.create_task(
                run_purge_loop(
                    BARRIER,
                    self.sessions,
                    self.deps.clock,
                    keep=timedelta(seconds=s.barrier_keep_seconds),
                    every=timedelta(seconds=s.barrier_purge_interval_seconds),
                )
            )
        )

    async def close(self) -> None:
        """Stop the event loops (asked, not cancelled), the jobs, then Redis and the database."""
        try:
            self.relay.stop()
            if self.channel_sync is not None:
                self.channel_sync.signal_stop()
            for job in self.jobs:
                job.cancel()
            for job in self.jobs:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await job
            self.jobs.clear()
            if self.relay_task is not None:
                task, self.relay_task = self.relay_task, None
                await _finish(task, "outbox relay")
            if self.channel_sync is not None:
                await self.channel_sync.stop()
        finally:
            await self.redis.aclose()
            await self.engine.dispose()


async def _finish(task: asyncio.Task[None], what: str) -> None:
    """Await a loop asked to stop; its errors are logged, never raised at shutdown."""
    try:
        await task
    except Exception:
        log.exception("%s failed while stopping", what)


def build(settings: Settings, *, clock: Clock | None = None) -> Inventory:
    pool = settings.db_pool()
    engine = create_engine(
        settings.database_url, pool=pool, **single_writer_options(settings.database_url, pool)
    )
    sessions = session_factory(engine)
    clock = clock or SystemClock()
    notifier = OutboxNotifier()
    redis_client = connect(settings.redis_url)
    warehouse_cache = WarehouseCache()  # the Try's active warehouses (5 s across replicas)
    deps = Deps(
        uow=lambda: InventoryUnitOfWork(sessions, notifier, clock, warehouse_cache), clock=clock
    )
    relay = OutboxRelay(
        sessions,
        orm.outbox,
        redis_client,
        notifier=notifier,
        settings=relay_settings(settings),
        clock=clock,
    )
    channel_sync = None
    if settings.channel_policies():
        snapshot = AvailabilitySnapshot(deps)
        channel_sync = ChannelSync(settings, sessions, redis_client, snapshot, clock=clock)
    reservations = ReservationService(
        deps, default_ttl=timedelta(seconds=settings.default_reservation_ttl_seconds)
    )
    servicer = InventoryServicer(
        WarehouseService(deps),
        StockService(deps),
        AuditLogService(deps),
        reservations,
        RestockService(deps),
        ReturnService(deps),
        ReceiptService(deps),
    )
    server = service_server(
        settings, SERVICE_NAME, ERROR_DOMAIN, settings.grpc_security(SERVICE_NAME)
    )
    server.add(pb_grpc.add_InventoryServiceServicer_to_server, servicer, FULL_SERVICE_NAME)
    expiry = ExpiryJob(deps, reservations, grace=timedelta(seconds=settings.expiry_grace_seconds))
    return Inventory(
        settings,
        engine,
        deps,
        reservations,
        server,
        expiry,
        sessions,
        redis_client,
        relay,
        channel_sync,
    )


@dataclass
class Running:
    inventory: Inventory
    port: int

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self, grace: float | None = None) -> None:
        """Stop serving (in-flight calls get ``grace`` seconds), then close the database."""
        try:
            await self.inventory.server.stop(
                self.inventory.settings.shutdown_grace_seconds if grace is None else grace
            )
        finally:
            await self.inventory.close()


async def prepare(settings: Settings, *, clock: Clock | None = None) -> Inventory:
    """Build and bring the schema up to date; the database is closed again on failure."""
    inventory = build(settings, clock=clock)
    try:
        await upgrade_schema(inventory.engine, MIGRATIONS)
    except BaseException:
        await inventory.close()
        raise
    return inventory


async def start(settings: Settings, *, clock: Clock | None = None) -> Running:
    """Upgrade the schema and serve (port 0 picks a free one: see ``Running.port``)."""
    inventory = await prepare(settings, clock=clock)
    try:
        port = await inventory.server.start()
        inventory.start_jobs()
    except BaseException:
        await inventory.close()
        raise
    return Running(inventory, port)


async def main() -> None:
    async def started(settings: Settings) -> Inventory:
        inventory = await prepare(settings)
        inventory.start_jobs()
        return inventory

    await serve(SERVICE_NAME, Settings, started)
