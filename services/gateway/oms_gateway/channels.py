"""Wiring of the after-sales intake channels (part of the composition root): the aftersales
client the delivery worker hands customer messages to, the WeChat adapter, and the HTTP
routes of the WeChat URL check and the web form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import grpc.aio
import redis.asyncio
from fastapi import APIRouter
from omslib.clock import Clock
from omslib.grpc_client import insecure_channel

from oms_gateway.adapters.aftersales_client import GrpcAftersalesClient
from oms_gateway.adapters.rate_limit import RedisRateLimiter
from oms_gateway.config import Settings
from oms_gateway.entrypoints.channels_http import (
    FormEndpoint,
    form_router,
    wechat_echo_router,
)
from oms_gateway.operations import REDIS_TIMEOUT_SECONDS
from oms_gateway.platforms.base import PlatformAdapter
from oms_gateway.platforms.registry import PlatformRegistry
from oms_gateway.platforms.settings import secret_value
from oms_gateway.platforms.web_form import NAME as FORM
from oms_gateway.platforms.web_form import FormAdapter, FormTokens
from oms_gateway.platforms.wechat import WechatAdapter
from oms_gateway.service_layer.intake import IntakeService

Hook = Callable[[], Awaitable[None]]


def wechat_adapter(settings: Settings, clock: Clock) -> PlatformAdapter:
    return WechatAdapter(
        secret_value(settings.wechat_token),
        clock=clock,
        tolerance=timedelta(seconds=settings.platform_timestamp_tolerance_seconds),
    )


@dataclass
class Aftersales:
    """The aftersales client, and the inbox translators of the channels that are not webhooks."""

    channel: grpc.aio.Channel
    client: GrpcAftersalesClient
    translators: dict[str, FormAdapter] = field(default_factory=lambda: {FORM: FormAdapter()})

    async def close(self) -> None:
        await self.channel.close(grace=None)


def build_aftersales(settings: Settings) -> Aftersales:
    channel = insecure_channel(settings.aftersales_addr)
    return Aftersales(
        channel,
        GrpcAftersalesClient(channel, deadline_seconds=settings.aftersales_deadline_seconds),
    )


def channel_routes(
    settings: Settings, clock: Clock, platforms: PlatformRegistry, intake: IntakeService
) -> tuple[list[APIRouter], list[Hook]]:
    """The routers to include, and what to close at shutdown."""
    # The form route exists even with no merchant configured: it refuses every token (401).
    client = redis.asyncio.Redis.from_url(
        settings.redis_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    rate = settings.form_rate()
    limiter = RedisRateLimiter(client, lambda _: rate, clock)
    endpoint = FormEndpoint(
        tokens=FormTokens(settings.form_token_map()),
        intake=intake,
        translator=FormAdapter(),
        rate_limiter=limiter,
        max_body_bytes=settings.form_max_body_bytes,
        clock=clock,
    )
    return [wechat_echo_router(platforms), form_router(endpoint)], [limiter.close]
