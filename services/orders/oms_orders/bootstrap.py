"""Composition root: the one place that builds the engine, the inventory client and the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import grpc.aio
import redis.asyncio
from oms.orders.v1 import orders_service_pb2, orders_service_pb2_grpc
from omslib.clock import Clock, SystemClock
from omslib.db import create_engine, session_factory, single_writer_options, upgrade_schema
from omslib.grpc_client import service_channel
from omslib.grpc_server import GrpcService
from omslib.grpc_server.serve import serve, service_server
from omslib.keyed_locks import KeyedLocks
from omslib.outbox import OutboxNotifier, OutboxRelay, relay_settings
from omslib.redis_conn import connect
from omslib.tcc import Coordinator, RetryPolicy
from omslib.workers import process_slot
from sqlalchemy.ext.asyncio import AsyncEngine

from oms_orders.adapters import orm
from oms_orders.adapters.inventory_client import (
    InventoryClient,
    InventoryRestockParticipant,
    InventoryTccParticipant,
)
from oms_orders.adapters.orm import TCC_TABLES
from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.config import Settings
from oms_orders.domain.approval import ApprovalRules
from oms_orders.domain.tcc import INVENTORY, INVENTORY_RESTOCK
from oms_orders.entrypoints.grpc_servicer import OrdersServicer
from oms_orders.service_layer.handlers import OrderHandlers
from oms_orders.service_layer.queries import OrderQueries
from oms_orders.service_layer.refund_freeze import RefundFreezes
from oms_orders.service_layer.sync_platform_order import PlatformOrderSync
from oms_orders.service_layer.tcc_completion import OrderTransactionHooks

SERVICE_NAME = "orders"
ERROR_DOMAIN = "orders.oms"
MIGRATIONS = Path(__file__).parent / "migrations"
FULL_SERVICE_NAME = orders_service_pb2.DESCRIPTOR.services_by_name["OrdersService"].full_name

log = logging.getLogger(__name__)


@dataclass
class Orders:
    """Everything wired; nothing started yet."""

    settings: Settings
    engine: AsyncEngine
    inventory_channel: grpc.aio.Channel
    server: GrpcService
    uow_factory: Callable[[], OrdersUnitOfWork] = field(repr=False)
    handlers: OrderHandlers = field(repr=False)
    sync: PlatformOrderSync = field(repr=False)
    coordinator: Coordinator = field(repr=False)
    redis: redis.asyncio.Redis = field(repr=False)
    relay: OutboxRelay = field(repr=False)
    jobs: list[asyncio.Task[None]] = field(default_factory=list, repr=False)
    relay_task: asyncio.Task[None] | None = field(default=None, repr=False)

    def start_relay(self) -> None:
        """Publish the outbox to Redis Streams (always on: it is how events leave)."""
        if self.relay_task is None:
            self.relay_task = asyncio.create_task(self.relay.run())

    def start_jobs(self) -> None:
        """The TCC recovery loop and the payment deadline job."""
        s = self.settings
        self.jobs.append(
            asyncio.create_task(
                self.coordinator.run_recovery(every=timedelta(seconds=s.recovery_interval_seconds))
            )
        )
        self.jobs.append(asyncio.create_task(self._deadline_loop()))

    async def _deadline_loop(self) -> None:
        every = self.settings.deadline_interval_seconds
        while True:
            try:
                await self.handlers.expire_unpaid()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("payment deadline round failed")
            await asyncio.sleep(every)

    async def close(self) -> None:
        for job in self.jobs:
            job.cancel()
        for job in self.jobs:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await job
        self.jobs.clear()
        try:
            await self._stop_relay()
        finally:
            await self.inventory_channel.close(grace=None)
            await self.redis.aclose()
            await self.engine.dispose()

    async def _stop_relay(self) -> None:
        # stop() rather than cancel: the relay finishes its pass and frees its leases,
        # and no database call is cut short on a pooled connection.
        task, self.relay_task = self.relay_task, None
        if task is None:
            return
        self.relay.stop()
        try:
            await task
        except Exception:
            log.exception("outbox relay ended with an error")


def build(
    settings: Settings, *, clock: Clock | None = None, notifier: OutboxNotifier | None = None
) -> Orders:
    """Wire orders; ``notifier`` wakes the relay (each commit that wrote events calls it)."""
    clock = clock or SystemClock()
    redis_client = connect(settings.redis_url)  # a bad OMS_REDIS_URL fails before anything opens
    pool = settings.db_pool()
    engine = create_engine(
        settings.database_url, pool=pool, **single_writer_options(settings.database_url, pool)
    )
    sessions = session_factory(engine)
    notifier = notifier or OutboxNotifier()
    relay = OutboxRelay(
        sessions,
        orm.outbox,
        redis_client,
        notifier=notifier,
        settings=relay_settings(settings),
        clock=clock,
    )

    def uow_factory() -> OrdersUnitOfWork:
        return OrdersUnitOfWork(sessions, notifier)

    security = settings.grpc_security(SERVICE_NAME)
    channel = service_channel(settings.inventory_addr, security)
    inventory = InventoryClient(channel, timeout=settings.inventory_timeout_seconds)
    rules = ApprovalRules(
        max_amount_minor_units=settings.auto_approve_max_minor_units,
        buyer_blocklist=settings.buyer_blocklist,
    )
    coordinator = Coordinator(
        sessions,
        TCC_TABLES,
        {
            INVENTORY: InventoryTccParticipant(inventory),
            INVENTORY_RESTOCK: InventoryRestockParticipant(inventory),
        },
        clock,
        policy=RetryPolicy(
            base=timedelta(seconds=settings.tcc_retry_base_seconds),
            max_attempts=settings.tcc_max_attempts,
        ),
        lease=timedelta(seconds=settings.tcc_lease_seconds),
        owner=process_slot(settings.port, settings.worker_index),
        hooks=OrderTransactionHooks(
            clock, rules, ship_within=timedelta(hours=settings.ship_within_hours)
        ),
        # Its own sessions commit events too (the Try's outcome, the hooks' moves and alerts).
        on_commit=notifier.notify,
    )
    locks = KeyedLocks()
    handlers = OrderHandlers(uow_factory, coordinator, clock, locks)
    sync = PlatformOrderSync(
        uow_factory,
        handlers,
        coordinator,
        clock,
        payment_window=timedelta(minutes=settings.payment_deadline_minutes),
        payment_windows=settings.payment_windows(),
        locks=locks,
    )
    servicer = OrdersServicer(
        sync, OrderQueries(uow_factory, clock), handlers, RefundFreezes(uow_factory, clock)
    )
    server = service_server(settings, SERVICE_NAME, ERROR_DOMAIN, security)
    server.add(
        orders_service_pb2_grpc.add_OrdersServiceServicer_to_server, servicer, FULL_SERVICE_NAME
    )
    return Orders(
        settings,
        engine,
        channel,
        server,
        uow_factory,
        handlers,
        sync,
        coordinator,
        redis_client,
        relay,
    )


@dataclass
class Running:
    orders: Orders
    port: int

    async def stop(self, grace: float | None = None) -> None:
        """Finish in-flight calls within ``grace``, then close the channel and the engine."""
        try:
            await self.orders.server.stop(
                self.orders.settings.shutdown_grace_seconds if grace is None else grace
            )
        finally:
            await self.orders.close()


async def start(settings: Settings, *, clock: Clock | None = None, jobs: bool = True) -> Running:
    """Upgrade the schema, then serve (port 0 picks a free one: see ``Running.port``)."""
    orders = build(settings, clock=clock)
    try:
        await upgrade_schema(orders.engine, MIGRATIONS)
        orders.start_relay()
        port = await orders.server.start()
        if jobs:
            await orders.coordinator.take_back_leases()
            orders.start_jobs()
    except BaseException:
        await orders.close()
        raise
    log.info("orders serving", extra={"port": port, "inventory_addr": settings.inventory_addr})
    return Running(orders, port)


async def main() -> None:
    async def started(settings: Settings) -> Orders:
        return (await start(settings)).orders

    await serve(SERVICE_NAME, Settings, started)
