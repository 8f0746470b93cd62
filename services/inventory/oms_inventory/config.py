"""Inventory configuration, from the environment only (validated at start-up)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from omslib.settings import CommonSettings, Port, default_sqlite_url
from pydantic import Field, ValidationInfo, field_validator

from oms_inventory.channel_sync.policy import ChannelPolicy

_CHANNEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


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
    # "taobao=http://host/stock,jd=https://host/stock"
    channel_sync_urls: str = Field("", validation_alias="OMS_INVENTORY_CHANNEL_SYNC_URLS")
    # Units kept back per channel: "taobao=2,jd=0" (unnamed channels: 0).
    channel_safety_buffer: str = Field("", validation_alias="OMS_INVENTORY_CHANNEL_SAFETY_BUFFER")
    # Caps: "taobao=100" for every SKU on a channel, "taobao:SKU-1=10" for one SKU.
    channel_allocation: str = Field("", validation_alias="OMS_INVENTORY_CHANNEL_ALLOCATION")
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

    @field_validator("channel_sync_urls")
    @classmethod
    def _urls_valid(cls, value: str) -> str:
        parse_channel_urls(value)
        return value

    @field_validator("channel_safety_buffer")
    @classmethod
    def _buffers_valid(cls, value: str, info: ValidationInfo) -> str:
        _known_channels(parse_safety_buffers(value), info)
        return value

    @field_validator("channel_allocation")
    @classmethod
    def _allocations_valid(cls, value: str, info: ValidationInfo) -> str:
        _known_channels(parse_allocations(value), info)
        return value

    def channel_urls(self) -> dict[str, str]:
        return parse_channel_urls(self.channel_sync_urls)

    def channel_policies(self) -> list[ChannelPolicy]:
        """One policy per channel with a URL (none: channel sync is off)."""
        buffers = parse_safety_buffers(self.channel_safety_buffer)
        caps = parse_allocations(self.channel_allocation)
        return [
            ChannelPolicy(
                channel,
                safety_buffer=buffers.get(channel, 0),
                allocation=caps.get(channel, ({}, None))[1],
                allocations=caps.get(channel, ({}, None))[0],
            )
            for channel in self.channel_urls()
        ]


def _items(value: str) -> list[tuple[str, str]]:
    """``"a=1, b=2"`` as [("a", "1"), ("b", "2")]; blank items are skipped."""
    pairs = []
    for item in value.split(","):
        if not item.strip():
            continue
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise ValueError(f"{item.strip()!r} is not NAME=VALUE")
        pairs.append((key.strip(), text.strip()))
    return pairs


def _channel(name: str) -> str:
    if not _CHANNEL.fullmatch(name):
        raise ValueError(f"channel name {name!r} must be lower-case letters, digits, - or _")
    return name


def _count(key: str, text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{key}: {text!r} is not a whole number") from None
    if number < 0:
        raise ValueError(f"{key}: {number} must not be negative")
    return number


def parse_channel_urls(value: str) -> dict[str, str]:
    urls: dict[str, str] = {}
    for name, url in _items(value):
        if _channel(name) in urls:
            raise ValueError(f"channel {name!r} is named twice")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{name}: {url!r} is not an http:// or https:// URL")
        urls[name] = url
    return urls


def parse_safety_buffers(value: str) -> dict[str, int]:
    return {_channel(name): _count(name, text) for name, text in _items(value)}


# channel -> ({sku: cap}, cap for every other SKU or None)
Allocations = dict[str, tuple[dict[str, int], int | None]]


def parse_allocations(value: str) -> Allocations:
    caps: Allocations = {}
    for key, text in _items(value):
        name, _, sku = key.partition(":")
        per_sku, default = caps.get(_channel(name), ({}, None))
        if sku:
            per_sku[sku] = _count(key, text)
        else:
            default = _count(key, text)
        caps[name] = (per_sku, default)
    return caps


def _known_channels(named: Mapping[str, object], info: ValidationInfo) -> None:
    urls = info.data.get("channel_sync_urls")
    if urls is None:  # the URLs themselves were invalid; that error is reported
        return
    unknown = sorted(set(named) - set(parse_channel_urls(urls)))
    if unknown:
        raise ValueError(
            f"channel(s) {', '.join(unknown)} have no URL in OMS_INVENTORY_CHANNEL_SYNC_URLS"
        )
