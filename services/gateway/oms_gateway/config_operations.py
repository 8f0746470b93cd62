"""Settings of the operator-facing features: admin API, peak protection, feed alerts,
pollers. Mixed into ``config.Settings``; environment only, validated at start-up."""

from __future__ import annotations

import functools
import json
import re
from typing import NamedTuple

from omslib.platforms.names import PLATFORM_NAMES
from omslib.settings import CommonSettings
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

MAX_POLL_INTERVAL_SECONDS = 300.0

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+)\s*$")


class RateLimit(NamedTuple):
    """Token bucket: ``rate`` tokens per second refill a bucket holding at most ``burst``."""

    rate: float
    burst: int


def parse_rate_limit(spec: str) -> RateLimit | None:
    """``"200:400"`` -> RateLimit(200, 400); ``"off"`` -> None (no limit)."""
    if spec.strip().lower() in ("off", "none", "0"):
        return None
    match = _RATE.match(spec)
    if not match or float(match[1]) <= 0 or int(match[2]) < 1:
        raise ValueError(
            f"{spec!r}: expected RATE:BURST (e.g. 200:400, RATE > 0, BURST >= 1) or off"
        )
    return RateLimit(float(match[1]), int(match[2]))


class PollChannelConfig(BaseModel):
    """One channel that cannot push: polled for orders modified since a cursor."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="inbox platform name")
    platform: str = Field(description="the platform its orders belong to, e.g. taobao")

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        if value not in PLATFORM_NAMES:
            raise ValueError(f"unknown platform {value!r}; one of {', '.join(PLATFORM_NAMES)}")
        return value

    url: str = Field(pattern=r"^https?://", description="base URL of the channel's order API")
    interval_seconds: float = Field(60.0, gt=0, le=MAX_POLL_INTERVAL_SECONDS)
    page_size: int = Field(100, ge=1, le=1000)
    token: SecretStr | None = None


class OperationsSettings(CommonSettings):
    # False runs an intake-only replica (another replica delivers), e.g. to scale intake
    # and delivery apart, or to measure intake alone.
    delivery_enabled: bool = Field(True, validation_alias="OMS_GATEWAY_DELIVERY_ENABLED")
    admin_token: SecretStr | None = Field(None, validation_alias="OMS_GATEWAY_ADMIN_TOKEN")
    rate_limit_default: str = Field("1000:2000", validation_alias="OMS_GATEWAY_RATE_LIMIT")
    rate_limits: str = Field("", validation_alias="OMS_GATEWAY_RATE_LIMITS")
    feed_silence_seconds: float = Field(
        180.0, gt=0, validation_alias="OMS_GATEWAY_FEED_SILENCE_SECONDS"
    )
    feed_check_seconds: float = Field(30.0, gt=0, validation_alias="OMS_GATEWAY_FEED_CHECK_SECONDS")
    alert_webhook_url: str | None = Field(None, validation_alias="OMS_ALERT_WEBHOOK_URL")
    poll_channels: list[PollChannelConfig] = Field(
        default_factory=list, validation_alias="OMS_GATEWAY_POLL_CHANNELS"
    )

    @field_validator("poll_channels", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        # The environment gives JSON text; overrides in code may pass the same text.
        return json.loads(value) if isinstance(value, str | bytes) else value

    @field_validator("admin_token")
    @classmethod
    def _token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 16:
            raise ValueError("use at least 16 characters (e.g. `openssl rand -hex 24`)")
        return value

    @field_validator("rate_limit_default")
    @classmethod
    def _default_rate(cls, value: str) -> str:
        parse_rate_limit(value)
        return value

    @field_validator("rate_limits")
    @classmethod
    def _per_platform_rates(cls, value: str) -> str:
        parse_platform_rates(value)
        return value

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _unique_channels(self) -> OperationsSettings:
        names = [channel.name for channel in self.poll_channels]
        if len(names) != len(set(names)):
            raise ValueError("OMS_GATEWAY_POLL_CHANNELS: channel names must be unique")
        return self

    def rate_limit_for(self, platform: str) -> RateLimit | None:
        # Asked on every push: parsed once per (spec, platform), not per call.
        return _rate_limit_for(self.rate_limits, self.rate_limit_default, platform)


@functools.lru_cache(maxsize=256)
def _rate_limit_for(rate_limits: str, default: str, platform: str) -> RateLimit | None:
    overrides = parse_platform_rates(rate_limits)
    if platform in overrides:
        return overrides[platform]
    return parse_rate_limit(default)


def parse_platform_rates(spec: str) -> dict[str, RateLimit | None]:
    """``"shop=50:100,douyin=off"`` -> {"shop": RateLimit(50, 100), "douyin": None}."""
    rates: dict[str, RateLimit | None] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        platform, sep, rate = item.partition("=")
        if not sep or not platform.strip():
            raise ValueError(f"{item!r}: expected PLATFORM=RATE:BURST")
        rates[platform.strip().lower()] = parse_rate_limit(rate)
    return rates
