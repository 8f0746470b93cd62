"""Credentials and options of the marketplace platforms (mixed into the gateway ``Settings``).

A platform whose credentials are unset is disabled: its endpoint answers 503
``PLATFORM_NOT_CONFIGURED`` naming the variables to set, like ``shop``.
"""

from __future__ import annotations

from omslib.settings import CommonSettings
from pydantic import Field, SecretStr, field_validator


class PlatformSettings(CommonSettings):
    shopify_secret: SecretStr | None = Field(None, validation_alias="OMS_PLATFORM_SHOPIFY_SECRET")
    douyin_key: str | None = Field(None, validation_alias="OMS_PLATFORM_DOUYIN_KEY")
    douyin_secret: SecretStr | None = Field(None, validation_alias="OMS_PLATFORM_DOUYIN_SECRET")
    youzan_id: str | None = Field(None, validation_alias="OMS_PLATFORM_YOUZAN_ID")
    youzan_secret: SecretStr | None = Field(None, validation_alias="OMS_PLATFORM_YOUZAN_SECRET")
    taobao_key: str | None = Field(None, validation_alias="OMS_PLATFORM_TAOBAO_KEY")
    taobao_secret: SecretStr | None = Field(None, validation_alias="OMS_PLATFORM_TAOBAO_SECRET")
    jd_key: str | None = Field(None, validation_alias="OMS_PLATFORM_JD_KEY")
    jd_secret: SecretStr | None = Field(None, validation_alias="OMS_PLATFORM_JD_SECRET")
    pdd_id: str | None = Field(None, validation_alias="OMS_PLATFORM_PDD_ID")
    pdd_secret: SecretStr | None = Field(None, validation_alias="OMS_PLATFORM_PDD_SECRET")
    #: Base URL of Pinduoduo's message service, e.g. wss://message-api.pinduoduo.com
    pdd_ws_url: str | None = Field(None, validation_alias="OMS_PLATFORM_PDD_WS_URL")
    pdd_heartbeat_seconds: float = Field(
        10.0, gt=0, validation_alias="OMS_PLATFORM_PDD_HEARTBEAT_SECONDS"
    )
    pdd_reconnect_max_seconds: float = Field(
        30.0, gt=0, validation_alias="OMS_PLATFORM_PDD_RECONNECT_MAX_SECONDS"
    )
    #: Taobao (Qimen) and JD (JOS) sign a timestamp; pushes further off are refused.
    platform_timestamp_tolerance_seconds: float = Field(
        600.0, gt=0, validation_alias="OMS_PLATFORM_TIMESTAMP_TOLERANCE_SECONDS"
    )

    @field_validator(
        "shopify_secret",
        "douyin_secret",
        "youzan_secret",
        "taobao_secret",
        "jd_secret",
        "pdd_secret",
    )
    @classmethod
    def _empty_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        return value

    @field_validator("douyin_key", "youzan_id", "taobao_key", "jd_key", "pdd_id", "pdd_ws_url")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return value.strip()

    @field_validator("pdd_ws_url")
    @classmethod
    def _websocket_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value.rstrip("/") if value else value


def secret_value(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None
