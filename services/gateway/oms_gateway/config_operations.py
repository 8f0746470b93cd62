"""Settings of the operator-facing features: admin API, peak protection, feed alerts,
pollers. Mixed into ``config.Settings``; environment only, validated at start-up."""

from __future__ import annotations

import re
from typing import Annotated, NamedTuple

from omslib.platforms.names import PLATFORM_NAMES
from omslib.settings import CommonSettings
from omslib.settings_json import json_from_env, known_keys
from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import NoDecode

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


def _spec(value: object) -> object:
    return parse_rate_limit(value) if isinstance(value, str) else value


#: A bucket written ``"RATE:BURST"`` or ``"off"`` (None), the notation of every rate variable.
RateLimitSpec = Annotated[RateLimit | None, BeforeValidator(_spec)]


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
    rate_limit_default: RateLimitSpec = Field(
        RateLimit(1000.0, 2000), validation_alias="OMS_GATEWAY_RATE_LIMIT"
    )
    # Per platform, JSON: {"douyin": "3000:6000", "shop": "off"}; others use the default.
    rate_limits: Annotated[
        dict[str, RateLimitSpec],
        NoDecode,
        json_from_env('{"douyin": "3000:6000", "shop": "off"}'),
        known_keys(PLATFORM_NAMES),
    ] = Field(default_factory=dict, validation_alias="OMS_GATEWAY_RATE_LIMITS")
    feed_silence_seconds: float = Field(
        180.0, gt=0, validation_alias="OMS_GATEWAY_FEED_SILENCE_SECONDS"
    )
    feed_check_seconds: float = Field(30.0, gt=0, validation_alias="OMS_GATEWAY_FEED_CHECK_SECONDS")
    alert_webhook_url: str | None = Field(None, validation_alias="OMS_ALERT_WEBHOOK_URL")
    poll_channels: Annotated[
        list[PollChannelConfig],
        NoDecode,
        json_from_env('[{"name": "taobao-poll", "platform": "taobao", "url": "https://host"}]'),
    ] = Field(default_factory=list, validation_alias="OMS_GATEWAY_POLL_CHANNELS")

    @field_validator("admin_token")
    @classmethod
    def _token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 16:
            raise ValueError("use at least 16 characters (e.g. `openssl rand -hex 24`)")
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
        """The bucket of ``platform``'s pushes (None: unlimited); asked on every push."""
        if platform in self.rate_limits:
            return self.rate_limits[platform]
        return self.rate_limit_default
