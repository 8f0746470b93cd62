"""Gateway configuration, from the environment only (validated at start-up)."""

from __future__ import annotations

from omslib.settings import CommonSettings, Port, addr_default, default_sqlite_url
from pydantic import Field, SecretStr, field_validator, model_validator

from oms_gateway.config_channels import ChannelSettings
from oms_gateway.config_operations import OperationsSettings
from oms_gateway.config_security import SecuritySettings
from oms_gateway.platforms.settings import PlatformSettings
from oms_gateway.platforms.standard_webhooks import decode_secret


class Settings(
    PlatformSettings, OperationsSettings, ChannelSettings, SecuritySettings, CommonSettings
):
    """Everything the gateway reads at start-up."""

    port: Port = Field(8080, validation_alias="OMS_GATEWAY_PORT")
    host: str = Field("0.0.0.0", validation_alias="OMS_GATEWAY_HOST")
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("gateway"),
        validation_alias="OMS_GATEWAY_DATABASE_URL",
    )
    orders_addr: str = Field(
        default_factory=lambda: addr_default(50051), validation_alias="OMS_ORDERS_ADDR"
    )
    # Unset disables /webhooks/shop (503 PLATFORM_NOT_CONFIGURED) instead of refusing to start,
    # so a gateway serving other platforms does not need every secret.
    shop_secret: SecretStr | None = Field(None, validation_alias="OMS_PLATFORM_SHOP_SECRET")
    webhook_tolerance_seconds: float = Field(
        300.0, gt=0, validation_alias="OMS_GATEWAY_WEBHOOK_TOLERANCE_SECONDS"
    )
    max_body_bytes: int = Field(1_048_576, gt=0, validation_alias="OMS_GATEWAY_MAX_BODY_BYTES")
    # HTTP worker processes on one port (SO_REUSEPORT); each is a full replica.
    workers: int = Field(1, ge=1, le=64, validation_alias="OMS_GATEWAY_WORKERS")
    delivery_concurrency: int = Field(
        8, ge=1, le=1024, validation_alias="OMS_GATEWAY_DELIVERY_CONCURRENCY"
    )
    orders_deadline_seconds: float = Field(
        10.0, gt=0, validation_alias="OMS_GATEWAY_ORDERS_DEADLINE_SECONDS"
    )
    delivery_lease_seconds: float = Field(
        60.0, gt=0, validation_alias="OMS_GATEWAY_DELIVERY_LEASE_SECONDS"
    )
    delivery_sweep_seconds: float = Field(
        1.0, gt=0, validation_alias="OMS_GATEWAY_DELIVERY_SWEEP_SECONDS"
    )
    retry_base_seconds: float = Field(0.5, gt=0, validation_alias="OMS_GATEWAY_RETRY_BASE_SECONDS")
    retry_cap_seconds: float = Field(300.0, gt=0, validation_alias="OMS_GATEWAY_RETRY_CAP_SECONDS")
    retry_max_attempts: int = Field(20, ge=1, validation_alias="OMS_GATEWAY_RETRY_MAX_ATTEMPTS")
    # While orders (or a service behind it) is down: the longest wait between attempts.
    retry_outage_cap_seconds: float = Field(
        5.0, gt=0, validation_alias="OMS_GATEWAY_RETRY_OUTAGE_CAP_SECONDS"
    )
    # While orders is unreachable: how often its gRPC health is asked.
    orders_probe_seconds: float = Field(
        0.5, gt=0, validation_alias="OMS_GATEWAY_ORDERS_PROBE_SECONDS"
    )

    @field_validator("shop_secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        decode_secret(value.get_secret_value())  # ValueError says what is wrong
        return value

    @model_validator(mode="after")
    def _workers_need_a_server_database(self) -> Settings:
        if self.workers > 1 and self.database_url.startswith("sqlite"):
            raise ValueError(
                "OMS_GATEWAY_WORKERS > 1 needs a server database (PostgreSQL): SQLite takes "
                "one writer at a time, and writers of several processes would wait in its "
                "busy handler instead of sharing one group commit"
            )
        return self

    @model_validator(mode="after")
    def _lease_outlives_call(self) -> Settings:
        if self.delivery_lease_seconds <= self.orders_deadline_seconds:
            raise ValueError(
                "OMS_GATEWAY_DELIVERY_LEASE_SECONDS must exceed "
                "OMS_GATEWAY_ORDERS_DEADLINE_SECONDS, or a slow call could be delivered "
                "twice by two replicas"
            )
        if self.delivery_lease_seconds <= self.aftersales_deadline_seconds:
            raise ValueError(
                "OMS_GATEWAY_DELIVERY_LEASE_SECONDS must exceed "
                "OMS_GATEWAY_AFTERSALES_DEADLINE_SECONDS, for the same reason"
            )
        return self
