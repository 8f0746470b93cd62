"""Inventory configuration, from the environment only (validated at start-up)."""

from __future__ import annotations

from typing import Annotated

from omslib.settings import CommonSettings, Port, default_sqlite_url
from omslib.settings_json import ChannelName, json_from_env
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import NoDecode

from oms_inventory.channel_sync.policy import ChannelPolicy


def _http_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return url


PushUrl = Annotated[str, AfterValidator(_http_url)]


class ChannelAllocation(BaseModel):
    """The most a channel is shown: ``default`` for every SKU, ``skus`` for one SKU (wins)."""

    model_config = ConfigDict(extra="forbid")

    default: NonNegativeInt | None = None
    skus: dict[Annotated[str, Field(min_length=1)], NonNegativeInt] = Field(default_factory=dict)


class Settings(CommonSettings):
    """Everything the inventory service reads at start-up."""

    port: Port = Field(50052, validation_alias="OMS_INVENTORY_PORT")
    # Loopback unless told: plaintext without identities must not face a network.
    host: str = Field("127.0.0.1", validation_alias="OMS_INVENTORY_HOST")
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("inventory"),
        validation_alias="OMS_INVENTORY_DATABASE_URL",
    )
    # Used when a Try names no expire_time; orders normally sends the payment deadline.
    default_reservation_ttl_seconds: float = Field(
        1800.0, gt=0, validation_alias="OMS_INVENTORY_DEFAULT_RESERVATION_TTL_SECONDS"
    )
    # Backstop: release reservations still held this long after their deadline.
    expiry_grace_seconds: float = Field(
        120.0, ge=0, validation_alias="OMS_INVENTORY_EXPIRY_GRACE_SECONDS"
    )
    expiry_interval_seconds: float = Field(
        5.0, gt=0, validation_alias="OMS_INVENTORY_EXPIRY_INTERVAL_SECONDS"
    )
    # Barrier rows older than this are purged (in small batches) every purge interval.
    barrier_keep_seconds: float = Field(
        7 * 86400.0, gt=0, validation_alias="OMS_INVENTORY_BARRIER_KEEP_SECONDS"
    )
    barrier_purge_interval_seconds: float = Field(
        600.0, gt=0, validation_alias="OMS_INVENTORY_BARRIER_PURGE_INTERVAL_SECONDS"
    )
    # Channel stock sync (docs/events.md): off unless at least one channel has a URL.
    # JSON: {"taobao": "http://host/stock", "jd": "https://host/stock"}
    channel_sync_urls: Annotated[
        dict[ChannelName, PushUrl],
        NoDecode,
        json_from_env('{"taobao": "http://host/stock", "jd": "https://host/stock"}'),
    ] = Field(default_factory=dict, validation_alias="OMS_INVENTORY_CHANNEL_SYNC_URLS")
    # Units kept back per channel, JSON: {"taobao": 2, "jd": 0} (unnamed channels: 0).
    channel_safety_buffer: Annotated[
        dict[ChannelName, NonNegativeInt],
        NoDecode,
        json_from_env('{"taobao": 2, "jd": 0}'),
    ] = Field(default_factory=dict, validation_alias="OMS_INVENTORY_CHANNEL_SAFETY_BUFFER")
    # Caps per channel: "default" for every SKU, "skus" for one SKU (wins), JSON:
    # {"taobao": {"default": 100, "skus": {"SKU-1": 10}}}
    channel_allocation: Annotated[
        dict[ChannelName, ChannelAllocation],
        NoDecode,
        json_from_env('{"taobao": {"default": 100, "skus": {"SKU-1": 10}}}'),
    ] = Field(default_factory=dict, validation_alias="OMS_INVENTORY_CHANNEL_ALLOCATION")
    channel_sync_coalesce_seconds: float = Field(
        1.0, gt=0, validation_alias="OMS_INVENTORY_CHANNEL_SYNC_COALESCE_SECONDS"
    )
    channel_sync_full_refresh_seconds: float = Field(
        300.0, gt=0, le=300, validation_alias="OMS_INVENTORY_CHANNEL_SYNC_FULL_REFRESH_SECONDS"
    )
    channel_sync_timeout_seconds: float = Field(
        10.0, gt=0, validation_alias="OMS_INVENTORY_CHANNEL_SYNC_TIMEOUT_SECONDS"
    )
    # One replica syncs at a time; if it dies, another takes over within this long.
    channel_sync_lease_seconds: float = Field(
        15.0, ge=1, validation_alias="OMS_INVENTORY_CHANNEL_SYNC_LEASE_SECONDS"
    )

    @field_validator("channel_safety_buffer", "channel_allocation")
    @classmethod
    def _known_channels(cls, value: dict[str, object], info: ValidationInfo) -> dict[str, object]:
        urls = info.data.get("channel_sync_urls")
        if urls is None:  # the URLs themselves were invalid; that error is reported
            return value
        unknown = sorted(set(value) - set(urls))
        if unknown:
            raise ValueError(
                f"channel(s) {', '.join(unknown)} have no URL in OMS_INVENTORY_CHANNEL_SYNC_URLS"
            )
        return value

    def channel_urls(self) -> dict[str, str]:
        return dict(self.channel_sync_urls)

    def channel_policies(self) -> list[ChannelPolicy]:
        """One policy per channel with a URL (none: channel sync is off)."""
        policies = []
        for channel in self.channel_sync_urls:
            caps = self.channel_allocation.get(channel, ChannelAllocation())
            policies.append(
                ChannelPolicy(
                    channel,
                    safety_buffer=self.channel_safety_buffer.get(channel, 0),
                    allocation=caps.default,
                    allocations=dict(caps.skus),
                )
            )
        return policies
