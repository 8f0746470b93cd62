"""Wiring of the after-sales intake channels (part of the composition root): the aftersales
client the delivery worker hands customer messages to, the WeChat adapter, and the HTTP
routes of the WeChat URL check and the web form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import grpc.aio
import redis.asyncio
from fastapi import FastAPI
from omslib.clock import Clock
from omslib.grpc_client import service_channel

from oms_gateway.adapters.aftersales_client import GrpcAftersalesClient
from oms_gateway.adapters.rate_limit import RedisRateLimiter
from oms_gateway.config import Settings
from oms_gateway.entrypoints.channels_http import (
    FormCors,
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


def wechat_adapter(settings: Settings, clock: Clock) -> PlatformAdapter:
    return WechatAdapter(
        secret_value(settings.wechat_token),
        clock=clock,
        tolerance=timedelta(seconds=settings.platform_timestamp_tolerance_seconds),
    )


@dataclass
class Channels:
    """The aftersales client, the inbox translators of the channels that are not webhooks,
    and what the web form needs (its rate limiter shares the limit's Redis)."""

    settings: Settings
    clock: Clock
    channel: grpc.aio.Channel
    client: GrpcAftersalesClient
    limiter: RedisRateLimiter
    translators: dict[str, FormAdapter] = field(default_factory=lambda: {FORM: FormAdapter()})

    def install(self, api: FastAPI, platforms: PlatformRegistry, intake: IntakeService) -> None:
        """Add the WeChat URL check and the web form (with its CORS) to ``api``."""
        api.include_router(wechat_echo_router(platforms))
        # The form route exists even with no merchant configured: it refuses every token.
        endpoint = FormEndpoint(
            tokens=FormTokens(self.settings.form_token_map()),
            intake=intake,
            translator=self.translators[FORM],
            rate_limiter=self.limiter,
            max_body_bytes=self.settings.form_max_body_bytes,
            clock=self.clock,
        )
        api.include_router(form_router(endpoint))
        if self.settings.form_origins():
            api.add_middleware(FormCors, origins=self.settings.form_origins())

    async def close(self) -> None:
        try:
            await self.limiter.close()
        finally:
            await self.channel.close(grace=None)


def build_channels(settings: Settings, clock: Clock) -> Channels:
    channel = service_channel(settings.aftersales_addr, settings.grpc_security("gateway"))
    client = redis.asyncio.Redis.from_url(
        settings.redis_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    rate = settings.form_rate()
    return Channels(
        settings,
        clock,
        channel,
        GrpcAftersalesClient(channel, deadline_seconds=settings.aftersales_deadline_seconds),
        RedisRateLimiter(client, lambda _: rate, clock),
    )
