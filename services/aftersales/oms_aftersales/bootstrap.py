"""Composition root of the aftersales service: the one place that builds things."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import grpc.aio
import redis.asyncio
from oms.aftersales.v1 import aftersales_service_pb2, aftersales_service_pb2_grpc
from omslib.alert_webhook import AlertWebhook
from omslib.clock import Clock, SystemClock
from omslib.db import create_engine, session_factory, upgrade_schema
from omslib.events import EventConsumer
from omslib.grpc_client import service_channel
from omslib.grpc_server import GrpcService
from omslib.grpc_server.serve import serve, service_server
from omslib.outbox import STREAM_ORDERS, OutboxNotifier, OutboxRelay, relay_settings
from omslib.outbox.named_lease import NamedLease
from omslib.redis_conn import connect
from omslib.tcc import Coordinator, RetryPolicy
from sqlalchemy.ext.asyncio import AsyncEngine

from oms_aftersales.adapters import orm
from oms_aftersales.adapters.inventory_client import InventoryReturns
from oms_aftersales.adapters.orders_client import OrdersClient, OrdersRefundParticipant
from oms_aftersales.adapters.payment_api import HttpPaymentApi, NoPaymentApi
from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.catalogue_file import CatalogueError, load_catalogue
from oms_aftersales.config import Settings
from oms_aftersales.domain.classification import IntentClassifier
from oms_aftersales.domain.refund import RefundRules
from oms_aftersales.entrypoints.grpc_servicer import AftersalesServicer
from oms_aftersales.service_layer.intake import CustomerIntake
from oms_aftersales.service_layer.order_feed import GROUP, OrderFeed, ShipPromise
from oms_aftersales.service_layer.payouts import Payouts
from oms_aftersales.service_layer.platform_refunds import PlatformRefunds
from oms_aftersales.service_layer.profiles import ProfileService
from oms_aftersales.service_layer.refund_hooks import RefundTransactionHooks
from oms_aftersales.service_layer.refunds import INVENTORY, ORDERS, RefundService
from oms_aftersales.service_layer.ticket_log import TicketLog
from oms_aftersales.service_layer.tickets import TicketService
from oms_aftersales.service_layer.timers import TimerWorker

SERVICE_NAME = "aftersales"
ERROR_DOMAIN = "aftersales.oms"
MIGRATIONS = Path(__file__).parent / "migrations"
FULL_SERVICE_NAME = aftersales_service_pb2.DESCRIPTOR.services_by_name[
    "AftersalesService"
].full_name

log = logging.getLogger(__name__)


def default_classifier() -> IntentClassifier:
    """The offline intent model shipped in ``oms_intent`` (loaded once, at start)."""
    from oms_intent import load_default_classifier

    return load_default_classifier()


def instance_name() -> str:
    return f"aftersales-{socket.gethostname()[:20]}-{os.getpid()}-{os.urandom(3).hex()}"


@dataclass
class Aftersales:
    """Everything wired; nothing started yet."""

    settings: Settings
    engine: AsyncEngine
    server: GrpcService
    tickets: TicketService
    intake: CustomerIntake
    timers: TimerWorker
    consumer: EventConsumer
    relay: OutboxRelay
    redis: redis.asyncio.Redis
    refunds: RefundService
    coordinator: Coordinator
    payouts: Payouts
    channels: list[grpc.aio.Channel] = field(default_factory=list)
    payment_api: HttpPaymentApi | NoPaymentApi | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start_jobs(self) -> None:
        self.tasks.append(asyncio.create_task(self.relay.run()))
        self.tasks.append(asyncio.create_task(self.consumer.run()))
        self.tasks.append(asyncio.create_task(self._timer_loop()))
        self.tasks.append(asyncio.create_task(self._recompute()))
        every = timedelta(seconds=self.settings.recovery_interval_seconds)
        self.tasks.append(asyncio.create_task(self.coordinator.run_recovery(every=every)))
        self.tasks.append(asyncio.create_task(self._payout_loop()))

    async def _payout_loop(self) -> None:
        while True:
            try:
                await self.payouts.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("payout round failed; retried at the next round")
            await asyncio.sleep(self.settings.payout_interval_seconds)

    async def _recompute(self) -> None:
        try:
            changed = await self.tickets.recompute_open()
        except Exception:
            log.exception(
                "recomputing open tickets' deadlines failed; they recompute at their next change"
            )
            return
        if changed:
            log.info("open tickets' deadlines recomputed", extra={"tickets": changed})

    async def _timer_loop(self) -> None:
        while True:
            try:
                await self.timers.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer round failed; retried at the next round")
            await asyncio.sleep(self.settings.timer_interval_seconds)

    async def close(self) -> None:
        self.relay.stop()
        self.consumer.stop()
        for task in self.tasks[2:]:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=5)
        self.tasks.clear()
        for channel in self.channels:
            await channel.close(grace=None)
        if self.payment_api is not None:
            await self.payment_api.aclose()
        await self.redis.aclose()
        await self.engine.dispose()


def build(
    settings: Settings, *, clock: Clock | None = None, classifier: IntentClassifier | None = None
) -> Aftersales:
    clock = clock or SystemClock()
    try:
        catalogue = load_catalogue(settings.issue_codes_file)
    except CatalogueError as exc:
        raise SystemExit(f"OMS_AFTERSALES_ISSUE_CODES_FILE: {exc}") from None
    redis_client = connect(settings.redis_url)
    engine = create_engine(settings.database_url, pool=settings.db_pool())
    sessions = session_factory(engine)
    notifier = OutboxNotifier()

    def uow_factory() -> AftersalesUnitOfWork:
        return AftersalesUnitOfWork(sessions, notifier)

    ticket_log = TicketLog(catalogue)
    tickets = TicketService(uow_factory, ticket_log, clock)
    intake = CustomerIntake(uow_factory, ticket_log, classifier or default_classifier(), clock)
    profiles = ProfileService(uow_factory, catalogue, clock)
    promise = ShipPromise(settings.ship_promise_hours, settings.ship_promise_hours_by_platform)
    name = instance_name()
    relay = OutboxRelay(
        sessions,
        orm.outbox,
        redis_client,
        notifier=notifier,
        settings=relay_settings(settings),
        clock=clock,
    )
    security = settings.grpc_security(SERVICE_NAME)
    server = service_server(settings, SERVICE_NAME, ERROR_DOMAIN, security)
    orders_channel = service_channel(settings.orders_addr, security)
    inventory_channel = service_channel(settings.inventory_addr, security)
    orders = OrdersClient(orders_channel, timeout=settings.orders_timeout_seconds)
    inventory = InventoryReturns(inventory_channel, timeout=settings.orders_timeout_seconds)
    coordinator = Coordinator(
        sessions,
        orm.TCC_TABLES,
        {
            ORDERS: OrdersRefundParticipant(
                orders_channel, timeout=settings.orders_timeout_seconds
            ),
            INVENTORY: inventory,
        },
        clock,
        policy=RetryPolicy(
            base=timedelta(seconds=settings.tcc_retry_base_seconds),
            max_attempts=settings.tcc_max_attempts,
        ),
        lease=timedelta(seconds=settings.tcc_lease_seconds),
        hooks=RefundTransactionHooks(clock),
        # Its own sessions commit events too (the hooks' refund moves and parking alerts).
        on_commit=notifier.notify,
    )
    payment_api: HttpPaymentApi | NoPaymentApi
    if settings.payment_api_url:
        payment_api = HttpPaymentApi(
            settings.payment_api_url,
            settings.payment_api_key.get_secret_value(),
            timeout=settings.payment_timeout_seconds,
        )
    else:
        payment_api = NoPaymentApi()
    payouts = Payouts(
        uow_factory,
        coordinator,
        payment_api,
        clock,
        policy=RetryPolicy(
            base=timedelta(seconds=settings.payout_retry_base_seconds),
            max_attempts=settings.payout_alert_attempts,
        ),
        grace=timedelta(seconds=settings.payout_grace_seconds),
        platform_wait=timedelta(hours=settings.platform_refund_overdue_hours),
        lease=NamedLease(
            sessions,
            orm.outbox.leases,
            "aftersales-payouts",
            name,
            ttl=timedelta(seconds=settings.timer_lease_seconds),
            clock=clock,
        ),
    )
    refunds = RefundService(
        uow_factory,
        coordinator,
        orders,
        inventory,
        payouts,
        RefundRules(settings.refund_auto_approve_max_minor_units),
        clock,
        try_timeout=timedelta(seconds=settings.tcc_try_timeout_seconds),
    )
    platform_refunds = PlatformRefunds(uow_factory, refunds)
    feed = OrderFeed(promise, intake, uow_factory, refunds)
    consumer = EventConsumer(
        redis_client,
        sessions,
        orm.events_in,
        group=GROUP,
        name=name,
        streams=[STREAM_ORDERS],
        handlers=feed.handlers(),
        clock=clock,  # type: ignore[arg-type]
    )
    lease = NamedLease(
        sessions,
        orm.outbox.leases,
        "aftersales-timers",
        name,
        ttl=timedelta(seconds=settings.timer_lease_seconds),
        clock=clock,
    )
    webhook = AlertWebhook(settings.alert_webhook_url) if settings.alert_webhook_url else None
    timers = TimerWorker(
        uow_factory, ticket_log, lease, clock, webhook=webhook, order_timer=feed.on_order_timer
    )
    servicer = AftersalesServicer(intake, tickets, profiles, refunds, platform_refunds)
    server.add(
        aftersales_service_pb2_grpc.add_AftersalesServiceServicer_to_server,
        servicer,
        FULL_SERVICE_NAME,
    )
    return Aftersales(
        settings,
        engine,
        server,
        tickets,
        intake,
        timers,
        consumer,
        relay,
        redis_client,
        refunds,
        coordinator,
        payouts,
        channels=[orders_channel, inventory_channel],
        payment_api=payment_api,
    )


@dataclass
class Running:
    """A started aftersales server; tests use `port` and `stop()`."""

    app: Aftersales
    port: int

    async def stop(self, grace: float = 1.0) -> None:
        try:
            await self.app.server.stop(grace)
        finally:
            await self.app.close()


async def start(
    settings: Settings,
    *,
    clock: Clock | None = None,
    classifier: IntentClassifier | None = None,
    jobs: bool = True,
) -> Running:
    """Upgrade the schema, then serve (port 0 picks a free port)."""
    app = build(settings, clock=clock, classifier=classifier)
    try:
        await upgrade_schema(app.engine, MIGRATIONS)
        port = await app.server.start()
        if jobs:
            app.start_jobs()
    except BaseException:
        await app.close()
        raise
    log.info("aftersales serving", extra={"port": port})
    return Running(app, port)


async def main() -> None:
    async def started(settings: Settings) -> Aftersales:
        return (await start(settings)).app

    await serve(SERVICE_NAME, Settings, started)
