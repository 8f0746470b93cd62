"""Aftersales configuration, from the environment only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from omslib.platforms.names import PLATFORM_NAMES
from omslib.settings import CommonSettings, addr_default, default_sqlite_url
from omslib.settings_json import ChannelName, json_from_env, known_keys
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

# A promised ship time, in hours after payment: above 0, at most 30 days.
PromiseHours = Annotated[float, Field(gt=0, le=720)]


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
    # The issue-code catalogue (codes, departments, calendars, escalation); unset: the shipped one.
    issue_codes_file: Path | None = Field(None, validation_alias="OMS_AFTERSALES_ISSUE_CODES_FILE")
    alert_webhook_url: str | None = Field(None, validation_alias="OMS_ALERT_WEBHOOK_URL")
    # How often due timers are looked for.
    timer_interval_seconds: float = Field(
        1.0, gt=0, le=300, validation_alias="OMS_AFTERSALES_TIMER_INTERVAL_SECONDS"
    )
    timer_lease_seconds: float = Field(
        15.0, gt=0, le=600, validation_alias="OMS_AFTERSALES_TIMER_LEASE_SECONDS"
    )
    # Promised ship time = paid time + these hours (orders events carry no promise).
    ship_promise_hours: int = Field(
        48, ge=1, le=24 * 30, validation_alias="OMS_AFTERSALES_SHIP_PROMISE_HOURS"
    )
    # Per platform, JSON: {"pdd": 48, "douyin": 48, "shopify": 72} (decimal hours allowed).
    ship_promise_hours_by_platform: Annotated[
        dict[ChannelName, PromiseHours],
        NoDecode,
        json_from_env('{"pdd": 48, "shopify": 72, "shop": 0.5}'),
        known_keys(PLATFORM_NAMES),
    ] = Field(
        default_factory=dict, validation_alias="OMS_AFTERSALES_SHIP_PROMISE_HOURS_BY_PLATFORM"
    )

    # Refunds: a refund-only of an unshipped order at or under this is approved at once.
    refund_auto_approve_max_minor_units: int = Field(
        10000,
        ge=0,
        le=10**13,
        validation_alias="OMS_AFTERSALES_REFUND_AUTO_APPROVE_MAX_MINOR_UNITS",
    )
    # The reference payment API (own shop, Shopify refunds); unset: those payouts wait.
    payment_api_url: str | None = Field(None, validation_alias="OMS_AFTERSALES_PAYMENT_API_URL")
    # Its key, sent as a bearer token; never logged.
    payment_api_key: SecretStr = Field(
        SecretStr(""), validation_alias="OMS_AFTERSALES_PAYMENT_API_KEY"
    )
    payment_timeout_seconds: float = Field(
        10.0, gt=0, le=120, validation_alias="OMS_AFTERSALES_PAYMENT_TIMEOUT_SECONDS"
    )
    # Unknown payout outcomes: retried with the same key, first after this, doubling (max 5 min);
    # past the attempt count an ERROR REFUND_PAYOUT_STUCK line each round.
    payout_retry_base_seconds: float = Field(
        2.0, gt=0, le=600, validation_alias="OMS_AFTERSALES_PAYOUT_RETRY_BASE_SECONDS"
    )
    payout_alert_attempts: int = Field(
        8, ge=1, le=1000, validation_alias="OMS_AFTERSALES_PAYOUT_ALERT_ATTEMPTS"
    )
    # How long an approved refund is left to the call that approved it before the job retries.
    payout_grace_seconds: float = Field(
        30.0, gt=0, le=3600, validation_alias="OMS_AFTERSALES_PAYOUT_GRACE_SECONDS"
    )
    payout_interval_seconds: float = Field(
        1.0, gt=0, le=300, validation_alias="OMS_AFTERSALES_PAYOUT_INTERVAL_SECONDS"
    )
    # A marketplace refund we approved that the platform has not reported refunded after
    # this is raised (ERROR REFUND_PLATFORM_OVERDUE), again each such period.
    platform_refund_overdue_hours: float = Field(
        48.0, gt=0, le=720, validation_alias="OMS_AFTERSALES_PLATFORM_REFUND_OVERDUE_HOURS"
    )
    # The refund TCC (aftersales coordinates orders and inventory).
    orders_timeout_seconds: float = Field(
        5.0, gt=0, le=120, validation_alias="OMS_AFTERSALES_ORDERS_TIMEOUT_SECONDS"
    )
    tcc_max_attempts: int = Field(
        8, ge=1, le=100, validation_alias="OMS_AFTERSALES_TCC_MAX_ATTEMPTS"
    )
    tcc_retry_base_seconds: float = Field(
        1.0, gt=0, le=600, validation_alias="OMS_AFTERSALES_TCC_RETRY_BASE_SECONDS"
    )
    tcc_lease_seconds: float = Field(
        30.0, gt=0, le=600, validation_alias="OMS_AFTERSALES_TCC_LEASE_SECONDS"
    )
    tcc_try_timeout_seconds: float = Field(
        30.0, gt=0, le=600, validation_alias="OMS_AFTERSALES_TCC_TRY_TIMEOUT_SECONDS"
    )
    recovery_interval_seconds: float = Field(
        1.0, gt=0, le=300, validation_alias="OMS_AFTERSALES_RECOVERY_INTERVAL_SECONDS"
    )

    @field_validator("payment_api_url")
    @classmethod
    def _payment_url(cls, v: str | None) -> str | None:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("OMS_AFTERSALES_PAYMENT_API_URL must be an http(s) URL")
        return v or None

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook(cls, v: str | None) -> str | None:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("OMS_ALERT_WEBHOOK_URL must be an http(s) URL")
        return v or None
