"""The marketplace adapters and the Pinduoduo connector, built from the settings."""

from __future__ import annotations

import logging
from datetime import timedelta

from omslib.clock import Clock

from oms_gateway.platforms.base import PlatformAdapter
from oms_gateway.platforms.douyin import DouyinAdapter
from oms_gateway.platforms.jd import JdAdapter
from oms_gateway.platforms.pdd import NAME as PDD
from oms_gateway.platforms.pdd import PddAdapter
from oms_gateway.platforms.pdd_connector import PddConnector
from oms_gateway.platforms.registry import PlatformRegistry
from oms_gateway.platforms.settings import PlatformSettings, secret_value
from oms_gateway.platforms.shopify import ShopifyAdapter
from oms_gateway.platforms.taobao import TaobaoAdapter
from oms_gateway.platforms.youzan import YouzanAdapter
from oms_gateway.service_layer.intake import IntakeService

log = logging.getLogger(__name__)


def marketplace_adapters(settings: PlatformSettings, clock: Clock) -> list[PlatformAdapter]:
    tolerance = timedelta(seconds=settings.platform_timestamp_tolerance_seconds)
    return [
        ShopifyAdapter(secret_value(settings.shopify_secret), clock=clock),
        DouyinAdapter(settings.douyin_key, secret_value(settings.douyin_secret), clock=clock),
        YouzanAdapter(settings.youzan_id, secret_value(settings.youzan_secret), clock=clock),
        TaobaoAdapter(
            settings.taobao_key,
            secret_value(settings.taobao_secret),
            clock=clock,
            tolerance=tolerance,
        ),
        JdAdapter(
            settings.jd_key, secret_value(settings.jd_secret), clock=clock, tolerance=tolerance
        ),
        PddAdapter(settings.pdd_id, secret_value(settings.pdd_secret), settings.pdd_ws_url),
    ]


def build_connectors(
    settings: PlatformSettings, platforms: PlatformRegistry, intake: IntakeService, clock: Clock
) -> list[PddConnector]:
    """The Pinduoduo connector when its id, secret and URL are all set."""
    secret = secret_value(settings.pdd_secret)
    if not (settings.pdd_id and secret and settings.pdd_ws_url):
        if settings.pdd_id or secret or settings.pdd_ws_url:
            log.warning(
                "Pinduoduo connector not started: set OMS_PLATFORM_PDD_ID, "
                "OMS_PLATFORM_PDD_SECRET and OMS_PLATFORM_PDD_WS_URL"
            )
        return []
    adapter = platforms.get(PDD)
    assert isinstance(adapter, PddAdapter)
    return [
        PddConnector(
            url=settings.pdd_ws_url,
            client_id=settings.pdd_id,
            secret=secret,
            adapter=adapter,
            intake=intake,
            clock=clock,
            heartbeat_seconds=settings.pdd_heartbeat_seconds,
            reconnect_max_seconds=settings.pdd_reconnect_max_seconds,
        )
    ]
