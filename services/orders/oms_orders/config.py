"""Orders configuration, from the environment only."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from omslib.settings import CommonSettings, Port, addr_default, default_sqlite_url
from omslib.settings_json import json_from_env, known_keys
from pydantic import Field
from pydantic_settings import NoDecode

from oms_orders.domain.values import Platform

PLATFORMS = frozenset(p.value for p in Platform)
# Platforms give buyers 15 to 30 minutes to pay before the order is cancelled.
PaymentMinutes = Annotated[int, Field(ge=15, le=30)]


class Settings(CommonSettings):
    """Everything the orders service reads at start-up."""

    port: Port = Field(50051, validation_alias="OMS_ORDERS_PORT")
    # Loopback unless told: plaintext without identities must not face a network.
    host: str = Field("127.0.0.1", validation_alias="OMS_ORDERS_HOST")
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("orders"),
        validation_alias="OMS_ORDERS_DATABASE_URL",
    )
    # Processes serving one port (SO_REUSEPORT, omslib.workers); each a full replica.
    workers: int = Field(1, ge=1, validation_alias="OMS_ORDERS_WORKERS")
    inventory_addr: str = Field(
        default_factory=lambda: addr_default(50052), validation_alias="OMS_INVENTORY_ADDR"
    )
    payment_deadline_minutes: PaymentMinutes = Field(
        30, validation_alias="OMS_ORDERS_PAYMENT_DEADLINE_MINUTES"
    )
    inventory_timeout_seconds: float = Field(
        5.0, gt=0, le=60, validation_alias="OMS_ORDERS_INVENTORY_TIMEOUT_SECONDS"
    )
    # Per platform, JSON: {"taobao": 15, "jd": 20}; platforms not named use
    # payment_deadline_minutes.
    payment_deadline_by_platform: Annotated[
        dict[str, PaymentMinutes],
        NoDecode,
        json_from_env('{"taobao": 15, "jd": 20}'),
        known_keys(PLATFORMS),
    ] = Field(default_factory=dict, validation_alias="OMS_ORDERS_PAYMENT_DEADLINE_BY_PLATFORM")
    # Automatic approval after payment: every rule must pass, else the order is reviewed.
    auto_approve_max_minor_units: int = Field(
        200_000, ge=0, validation_alias="OMS_ORDERS_AUTO_APPROVE_MAX_MINOR_UNITS"
    )
    # Buyer ids or names always sent to review, JSON: ["buyer-1", "Some Name"].
    buyer_blocklist: Annotated[
        frozenset[Annotated[str, Field(min_length=1)]],
        NoDecode,
        json_from_env('["buyer-1", "Some Name"]'),
    ] = Field(default_factory=frozenset, validation_alias="OMS_ORDERS_BUYER_BLOCKLIST")
    # The promised ship time: this many hours after payment (platforms commonly promise 48).
    ship_within_hours: int = Field(
        48, ge=1, le=720, validation_alias="OMS_ORDERS_SHIP_WITHIN_HOURS"
    )
    # TCC coordinator: attempts before parking, recovery and deadline job intervals.
    tcc_max_attempts: int = Field(8, ge=1, le=100, validation_alias="OMS_ORDERS_TCC_MAX_ATTEMPTS")
    tcc_retry_base_seconds: float = Field(
        1.0, gt=0, validation_alias="OMS_ORDERS_TCC_RETRY_BASE_SECONDS"
    )
    tcc_lease_seconds: float = Field(30.0, gt=0, validation_alias="OMS_ORDERS_TCC_LEASE_SECONDS")
    recovery_interval_seconds: float = Field(
        1.0, gt=0, validation_alias="OMS_ORDERS_RECOVERY_INTERVAL_SECONDS"
    )
    deadline_interval_seconds: float = Field(
        5.0, gt=0, validation_alias="OMS_ORDERS_DEADLINE_INTERVAL_SECONDS"
    )

    def payment_windows(self) -> dict[str, timedelta]:
        return {
            platform: timedelta(minutes=minutes)
            for platform, minutes in self.payment_deadline_by_platform.items()
        }
