"""Wiring of the operator-facing parts: admin API, rate limiter, feed monitor, pollers.

Kept apart from ``bootstrap`` so the composition root stays short; ``bootstrap.build``
calls :func:`build_pollers` and :func:`build_operations` and runs the hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import redis.asyncio
from fastapi import APIRouter
from omslib.clock import Clock

from oms_gateway.adapters.rate_limit import RedisRateLimiter
from oms_gateway.adapters.unit_of_work import GatewayUnitOfWork
from oms_gateway.config import Settings
from oms_gateway.config_operations import parse_rate_limit
from oms_gateway.entrypoints.admin import admin_router
from oms_gateway.platforms.registry import PlatformRegistry
from oms_gateway.platforms.wechat import NAME as WECHAT
from oms_gateway.pollers.base import ChannelPoller
from oms_gateway.pollers.http_json import HttpJsonPoller
from oms_gateway.pollers.runner import PollRunner
from oms_gateway.service_layer.alert_webhook import AlertWebhook
from oms_gateway.service_layer.delivery import DeliveryWorker
from oms_gateway.service_layer.feed_monitor import FeedMonitor
from oms_gateway.service_layer.intake import IntakeService
from oms_gateway.service_layer.rejected_retention import RejectedRetention
from oms_gateway.service_layer.replay import InboxAdmin
from oms_gateway.service_layer.request_import import RequestImporter

# The limiter must never slow intake much when Redis is unhealthy (it fails open).
REDIS_TIMEOUT_SECONDS = 0.25


@dataclass
class Operations:
    admin: APIRouter
    rate_limiter: RedisRateLimiter
    feed_monitor: FeedMonitor
    poll_runner: PollRunner
    retention: RejectedRetention | None = None
    #: Signature failures per source address; shares the Redis client of ``rate_limiter``.
    failure_limiter: RedisRateLimiter | None = None

    async def start(self) -> None:
        await self.feed_monitor.start()
        await self.poll_runner.start()
        if self.retention is not None:
            await self.retention.start()

    async def stop(self) -> None:
        if self.retention is not None:
            await self.retention.stop()
        await self.poll_runner.stop()
        await self.feed_monitor.stop()
        await self.rate_limiter.close()


def build_pollers(settings: Settings) -> list[ChannelPoller]:
    return [HttpJsonPoller(channel) for channel in settings.poll_channels]


def build_operations(
    settings: Settings,
    clock: Clock,
    uow_factory: Callable[[], GatewayUnitOfWork],
    intake: IntakeService,
    worker: DeliveryWorker,
    platforms: PlatformRegistry,
    platforms_at: Callable[[Clock], PlatformRegistry],
    pollers: list[ChannelPoller],
) -> Operations:
    clashing = sorted({poller.name for poller in pollers} & set(platforms.names))
    if clashing:
        raise SystemExit(
            f"OMS_GATEWAY_POLL_CHANNELS: channel names {clashing} are webhook platforms; "
            "give poll channels names of their own"
        )
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    importer = RequestImporter(intake, platforms_at, clock, max_body_bytes=settings.max_body_bytes)
    admin = admin_router(token, InboxAdmin(uow_factory, clock, wake=worker.wake), importer)
    client = redis.asyncio.Redis.from_url(
        settings.redis_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    limiter = RedisRateLimiter(client, settings.rate_limit_for, clock)
    failure_limit = parse_rate_limit(settings.auth_failure_rate_limit)
    failure_limiter = RedisRateLimiter(client, lambda _source: failure_limit, clock)
    webhook = AlertWebhook(settings.alert_webhook_url) if settings.alert_webhook_url else None
    monitor = FeedMonitor(
        uow_factory,
        clock,
        # Customers write when they write: a silent WeChat account is no broken feed.
        lambda: [name for name in platforms.names if name != WECHAT],
        silence=timedelta(seconds=settings.feed_silence_seconds),
        check_every_seconds=settings.feed_check_seconds,
        webhook=webhook,
    )
    runner = PollRunner(pollers, intake, uow_factory, clock)
    retention = RejectedRetention(
        uow_factory,
        clock,
        keep=timedelta(days=settings.rejected_retention_days),
        every_seconds=settings.rejected_purge_seconds,
    )
    return Operations(admin, limiter, monitor, runner, retention, failure_limiter)
