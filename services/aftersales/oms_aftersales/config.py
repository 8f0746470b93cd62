"""Aftersales configuration, from the environment only."""

from __future__ import annotations

from omslib.settings import CommonSettings, addr_default, default_sqlite_url
from pydantic import Field


class Settings(CommonSettings):
    """Everything the aftersales service reads at start-up."""

    port: int = Field(50053, ge=0, le=65535, validation_alias="OMS_AFTERSALES_PORT")
    # Loopback unless told: plaintext without identities must not face a network.
    host: str = Field("127.0.0.1", validation_alias="OMS_AFTERSALES_HOST")
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("aftersales"),
        validation_alias="OMS_AFTERSALES_DATABASE_URL",
    )
    orders_addr: str = Field(
        default_factory=lambda: addr_default(50051), validation_alias="OMS_ORDERS_ADDR"
    )
    inventory_addr: str = Field(
        default_factory=lambda: addr_default(50052), validation_alias="OMS_INVENTORY_ADDR"
    )
