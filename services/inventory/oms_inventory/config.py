"""Inventory configuration, from the environment only (validated at start-up)."""

from __future__ import annotations

from omslib.settings import CommonSettings, Port, default_sqlite_url
from pydantic import Field


class Settings(CommonSettings):
    """Everything the inventory service reads at start-up."""

    port: Port = Field(50052, validation_alias="OMS_INVENTORY_PORT")
    host: str = Field("0.0.0.0", validation_alias="OMS_INVENTORY_HOST")
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
