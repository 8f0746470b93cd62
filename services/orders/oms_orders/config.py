"""Orders configuration, from the environment only."""

from __future__ import annotations

from datetime import timedelta

from omslib.settings import CommonSettings, Port, addr_default, default_sqlite_url
from pydantic import Field, field_validator


class Settings(CommonSettings):
    """Everything the orders service reads at start-up."""

    port: Port = Field(50051, validation_alias="OMS_ORDERS_PORT")
    # Loopback unless told: plaintext without identities must not face a network.
    host: str = Field("127.0.0.1", validation_alias="OMS_ORDERS_HOST")
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("orders"),
        validation_alias="OMS_ORDERS_DATABASE_URL",
    )
    inventory_addr: str = Field(
        default_factory=lambda: addr_default(50052), validation_alias="OMS_INVENTORY_ADDR"
    )
    # Platforms give buyers 15 to 30 minutes to pay before the order is cancelled.
    payment_deadline_minutes: int = Field(
        30, ge=15, le=30, validation_alias="OMS_ORDERS_PAYMENT_DEADLINE_MINUTES"
    )
    inventory_timeout_seconds: float = Field(
        5.0, gt=0, le=60, validation_alias="OMS_ORDERS_INVENTORY_TIMEOUT_SECONDS"
    )
    # Per channel, e.g. "taobao=15,jd=20"; channels not named use payment_deadline_minutes.
    payment_deadline_by_platform: str = Field(
        "", validation_alias="OMS_ORDERS_PAYMENT_DEADLINE_BY_PLATFORM"
    )
    # Automatic approval after payment: every rule must pass, else the order is reviewed.
    auto_approve_max_minor_units: int = Field(
        200_000, ge=0, validation_alias="OMS_ORDERS_AUTO_APPROVE_MAX_MINOR_UNITS"
    )
    buyer_blocklist: str = Field("", validation_alias="OMS_ORDERS_BUYER_BLOCKLIST")
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

    @field_validator("payment_deadline_by_platform")
    @classmethod
    def _windows_valid(cls, value: str) -> str:
        parse_windows(value)
        return value

    def payment_windows(self) -> dict[str, timedelta]:
        return parse_windows(self.payment_deadline_by_platform)

    def blocklist(self) -> frozenset[str]:
        return frozenset(b.strip() for b in self.buyer_blocklist.split(",") if b.strip())


def parse_windows(text: str) -> dict[str, timedelta]:
    """``"taobao=15,jd=20"`` -> minutes per platform, each within 15-30."""
    windows: dict[str, timedelta] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, _, minutes = part.partition("=")
        try:
            value = int(minutes)
        except ValueError:
            raise ValueError(f"bad entry {part!r}: expected platform=minutes") from None
        if not 15 <= value <= 30:
            raise ValueError(f"{name.strip()}: payment deadline must be 15-30 minutes")
        windows[name.strip().lower()] = timedelta(minutes=value)
    return windows
