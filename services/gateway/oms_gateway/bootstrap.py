"""Composition root: builds the engine, clients, worker, outbox relay and HTTP app, and
runs them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import grpc.aio
import redis.asyncio
import uvicorn
from fastapi import FastAPI
from omslib.clock import Clock, SystemClock
from omslib.db import (
    UnitOfWork,
    create_engine,
    session_factory,
    single_writer_options,
    upgrade_schema,
)
from omslib.grpc_client import service_channel
from omslib.grpc_server.service import refuse_port_in_use
from omslib.outbox import OutboxNotifier, OutboxRelay, relay_settings
from omslib.redis_conn import connect
from omslib.settings import load_settings
from omslib.telemetry import configure_logging, setup_tracing
from omslib.workers import process_slot, supervise
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from oms_gateway.adapters import orm
from oms_gateway.adapters.orders_client import GrpcOrdersClient
from oms_gateway.adapters.unit_of_work import GatewayUnitOfWork
from oms_gateway.channels import build_channels, wechat_adapter
from oms_gateway.config import Settings
from oms_gateway.domain.retry_policy import RetryPolicy
from oms_gateway.entrypoints.admin_guard import AdminTokenGuard
from oms_gateway.entrypoints.asgi import gateway_asgi
from oms_gateway.entrypoints.http_app import HttpDeps, create_app
from oms_gateway.entrypoints.http_server import HttpLimits, guarded_http, redact_access_log
from oms_gateway.entrypoints.push_endpoint import PushEndpoint
from oms_gateway.entrypoints.readiness import Readiness
from oms_gateway.operations import Operations, build_operations, build_pollers
from oms_gateway.platforms.aftersales.routing import with_aftersales
from oms_gateway.platforms.catalog import build_connectors, marketplace_adapters
from oms_gateway.platforms.pdd_connector import PddConnector
from oms_gateway.platforms.registry import PlatformRegistry
from oms_gateway.platforms.shop import ShopAdapter
from oms_gateway.service_layer.delivery import DeliveryOptions, DeliveryWorker
from oms_gateway.service_layer.inbox_writer import InboxWriter
from oms_gateway.service_layer.intake import IntakeService

SERVICE_NAME = "gateway"
MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)


@dataclass
class Gateway:
    """Everything wired; nothing started yet."""

    settings: Settings
    engine: AsyncEngine
    channel: grpc.aio.Channel
    platforms: PlatformRegistry
    intake: IntakeService
    worker: DeliveryWorker
    #: What uvicorn serves: ``gateway_asgi`` over the FastAPI app (``api``).
    app: ASGIApp
    uow_factory: Callable[[], UnitOfWork] = field(repr=False)
    relay: OutboxRelay = field(repr=False)
    redis: redis.asyncio.Redis = field(repr=False)
    operations: Operations | None = field(default=None, repr=False)
    connectors: list[PddConnector] = field(default_factory=list, repr=False)
    relay_task: asyncio.Task[None] | None = field(default=None, repr=False)

    def start_relay(self) -> None:
        """Publish the outbox (alert events) to Redis until :meth:`close`."""
        self.relay_task = asyncio.create_task(self.relay.run(), name="gateway-outbox-relay")

    async def close(self) -> None:
        try:
            if self.relay_task is not None:
                # stop() rather than cancel: the pass in progress finishes, leases are freed.
                self.relay.stop()
                await self.relay_task
                self.relay_task = None
        finally:
            await self.redis.aclose()
            await self.channel.close(grace=None)
            await self.engine.dispose()


def build_platforms(settings: Settings, clock: Clock) -> PlatformRegistry:
    tolerance = timedelta(seconds=settings.webhook_tolerance_seconds)
    secret = settings.shop_secret.get_secret_value() if settings.shop_secret else None
    return PlatformRegistry(
        [
            ShopAdapter(secret, clock=clock, tolerance=tolerance),
            # Refunds, returns and disputes come to the same URLs as orders: routed by kind.
            *with_aftersales(marketplace_adapters(settings, clock)),
            wechat_adapter(settings, clock),
        ]
    )


def instrument_http(app: FastAPI) -> None:
    """Server spans (trace context continued from the push's ``traceparent``), without
    the ASGI instrumentation's per-message ``http receive``/``http send`` child spans:
    three more spans per push that nobody reads, a quarter of the intake's CPU."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    if getattr(app, "_is_instrumented_by_opentelemetry", False):
        return
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,readyz", exclude_spans=["receive", "send"]
    )


def http_limits(settings: Settings) -> HttpLimits:
    return HttpLimits(
        max_header_bytes=settings.max_header_bytes,
        max_url_bytes=settings.max_url_bytes,
        header_timeout_seconds=settings.header_timeout_seconds,
        body_timeout_seconds=settings.body_timeout_seconds,
    )


def delivery_options(settings: Settings) -> DeliveryOptions:
    return DeliveryOptions(
        concurrency=settings.delivery_concurrency,
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        sweep_interval_seconds=settings.delivery_sweep_seconds,
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
        retry=RetryPolicy(
            base_seconds=settings.retry_base_seconds,
            cap_seconds=settings.retry_cap_seconds,
            max_attempts=settings.retry_max_attempts,
            outage_cap_seconds=settings.retry_outage_cap_seconds,
        ),
        outage_probe_seconds=settings.orders_probe_seconds,
    )


def delivery_owner(settings: Settings) -> str | None:
    """The delivery lease owner: one process slot (host, port, worker index), so that a
    gateway restarted after a crash takes back the deliveries its predecessor left in
    flight at once. Two live processes never share a slot: the second could not bind the
    port (workers on one port have distinct indices). None (a random id) on port 0."""
    return process_slot(settings.port, settings.worker_index)


def build(settings: Settings, *, clock: Clock | None = None) -> Gateway:
    clock = clock or SystemClock()
    # SQLite takes one writer at a time; with one pooled connection, writers queue in
    # asyncio (cheap) instead of in SQLite's busy handler (sleeps of up to 100 ms).
    pool = settings.db_pool()
    engine = create_engine(
        settings.database_url, pool=pool, **single_writer_options(settings.database_url, pool)
    )
    sessions = session_factory(engine)

    # Only alerts write the outbox (never the intake path); the relay is woken after them.
    notifier = OutboxNotifier()

    def uow_factory() -> GatewayUnitOfWork:
        return GatewayUnitOfWork(sessions, notifier)

    redis_client = connect(settings.redis_url)
    relay = OutboxRelay(
        sessions,
        orm.outbox,
        redis_client,
        notifier=notifier,
        settings=relay_settings(settings),
        clock=clock,
    )

    channel = service_channel(settings.orders_addr, settings.grpc_security("gateway"))
    orders = GrpcOrdersClient(channel, deadline_seconds=settings.orders_deadline_seconds)
    platforms = build_platforms(settings, clock)
    pollers = build_pollers(settings)
    channels = build_channels(settings, clock)
    worker = DeliveryWorker(
        uow_factory,
        orders,
        platforms,
        clock,
        delivery_options(settings),
        aftersales=channels.client,
        translators={**{poller.name: poller for poller in pollers}, **channels.translators},
        orders_health=orders.health,
        owner=delivery_owner(settings),
        reclaim_on_start=delivery_owner(settings) is not None,
    )
    intake = IntakeService(
        uow_factory, clock, on_stored=worker.wake, writer=InboxWriter(uow_factory)
    )
    operations = build_operations(
        settings,
        clock,
        uow_factory,
        intake,
        worker,
        platforms,
        lambda at: build_platforms(settings, at),
        pollers,
    )

    # One Pinduoduo WebSocket per host, as with one worker: only worker 0 opens it.
    connectors = (
        build_connectors(settings, platforms, intake, clock) if not settings.worker_index else []
    )

    async def ping_database() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    push = PushEndpoint(
        platforms=platforms,
        intake=intake,
        max_body_bytes=settings.max_body_bytes,
        rate_limiter=operations.rate_limiter,
        failure_limiter=operations.failure_limiter,
    )
    api = create_app(
        HttpDeps(
            push=push,
            readiness=Readiness(ping_database, orders.health),
            on_startup=[
                *([worker.start] if settings.delivery_enabled else []),
                operations.start,
                *(c.start for c in connectors),
            ],
            on_shutdown=[
                *(c.stop for c in connectors),
                operations.stop,
                worker.stop,
                channels.close,
            ],
        )
    )
    if settings.admin_token:
        # Without a token the admin API does not exist (404), rather than answering 401s.
        api.include_router(operations.admin)
        api.add_middleware(AdminTokenGuard, token=settings.admin_token.get_secret_value())
    instrument_http(api)
    channels.install(api, platforms, intake)
    app = gateway_asgi(api, push)
    return Gateway(
        settings,
        engine,
        channel,
        platforms,
        intake,
        worker,
        app,
        uow_factory,
        relay,
        redis_client,
        operations,
        connectors,
    )


class _EmbeddedServer(uvicorn.Server):
    # Signals are ours to handle (main() below); tests run several servers per process.
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


@dataclass
class Running:
    gateway: Gateway
    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        """Stop accepting, finish in-flight requests and deliveries, release leases, close."""
        self.server.should_exit = True
        try:
            await self.task
        finally:
            await self.gateway.close()


async def start(settings: Settings, *, clock: Clock | None = None) -> Running:
    """Upgrade the schema, then serve HTTP (port 0 picks a free one: see ``Running.port``)."""
    gateway = build(settings, clock=clock)
    try:
        await upgrade_schema(gateway.engine, MIGRATIONS)
    except BaseException:
        await gateway.close()
        raise
    gateway.start_relay()
    redact_access_log()
    config = uvicorn.Config(
        gateway.app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) or None,
        http=guarded_http(http_limits(settings)),
    )
    server = _EmbeddedServer(config)
    # Several worker processes share the port: each binds its own SO_REUSEPORT socket
    # and the kernel spreads the connections over them.
    sockets = [reuse_port_socket(settings.host, settings.port)] if settings.workers > 1 else None
    if sockets is None:
        try:
            refuse_port_in_use(SERVICE_NAME, settings.host, settings.port, "OMS_GATEWAY_PORT")
        except BaseException:
            await gateway.close()
            raise
    task = asyncio.create_task(server.serve(sockets=sockets), name="gateway-http")
    while not server.started:
        if task.done():
            await gateway.close()
            task.result()  # re-raise the start-up error
            raise RuntimeError("gateway HTTP server exited during start-up")
        await asyncio.sleep(0.01)
    port = int(server.servers[0].sockets[0].getsockname()[1])
    log.info("gateway listening", extra={"port": port, "orders_addr": settings.orders_addr})
    return Running(gateway, server, task, port)


def run() -> None:
    """``python -m oms_gateway``: one process, or a supervisor of OMS_GATEWAY_WORKERS."""
    settings = load_settings(Settings)
    if settings.workers > 1 and settings.worker_index is None:
        configure_logging(SERVICE_NAME, settings.log_level)
        raise SystemExit(supervise_workers(settings))
    asyncio.run(main())


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every response waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def supervise_workers(settings: Settings) -> int:
    """Run ``settings.workers`` gateway processes on one port until SIGTERM/SIGINT.

    The schema is upgraded once, here, before any worker starts. Every worker is a full
    replica (intake, delivery worker, pollers, feed monitor, outbox relay: all
    coordinate through leases or unique rows in the database, as replicas on several
    hosts do), except that only worker 0 opens the Pinduoduo connector. If a worker
    dies, the others are stopped and the supervisor exits non-zero so that the process
    manager restarts the whole set (``omslib.workers.supervise``).
    """

    async def upgrade() -> None:
        engine = create_engine(settings.database_url, pool=settings.db_pool())
        try:
            await upgrade_schema(engine, MIGRATIONS)
        finally:
            await engine.dispose()

    asyncio.run(upgrade())
    # Holds the port (bound, never listening, so it takes no connections) and, for port
    # 0, picks the one every worker binds.
    placeholder = reuse_port_socket(settings.host, settings.port)
    port = int(placeholder.getsockname()[1])
    log.info("gateway workers starting", extra={"port": port, "workers": settings.workers})
    try:
        return supervise(
            "oms_gateway", workers=settings.workers, env={"OMS_GATEWAY_PORT": str(port)}
        )
    finally:
        placeholder.close()


async def main() -> None:
    settings = load_settings(Settings)
    configure_logging(SERVICE_NAME, settings.log_level)
    provider = setup_tracing(SERVICE_NAME)
    if settings.shop_secret is None:
        log.warning("OMS_PLATFORM_SHOP_SECRET is not set: /webhooks/shop answers 503 until it is")
    running = await start(settings)
    # Everything built so far (modules, app, engine, models: ~150,000 objects) lives until
    # exit. Frozen out of the collector, it is no longer traversed by each full
    # collection, which otherwise stalled every request in flight for 60-90 ms.
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await asyncio.wait(
        [asyncio.create_task(stop.wait()), running.task], return_when=asyncio.FIRST_COMPLETED
    )
    log.info("gateway stopping")
    await running.stop()
    provider.shutdown()
