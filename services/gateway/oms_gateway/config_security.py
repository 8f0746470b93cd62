"""Settings of the gateway's defences against anonymous clients: the HTTP server's
limits, the retention of refused pushes, the per-address limit on signature failures
and development mode. Mixed into ``config.Settings``; environment only."""

from __future__ import annotations

from typing import Literal

from omslib.development import DEVELOPMENT, PUBLISHED_SECRETS
from omslib.settings import CommonSettings
from pydantic import Field, SecretStr, field_validator, model_validator

from oms_gateway.config_operations import parse_rate_limit


class SecuritySettings(CommonSettings):
    # The request line and headers together, like the big webhook senders' own limits
    # (8-16 KiB); more is refused with 431 before it is buffered.
    max_header_bytes: int = Field(
        16_384, ge=1_024, le=65_536, validation_alias="OMS_GATEWAY_MAX_HEADER_BYTES"
    )
    # The request target (path and query string); longer is refused with 414.
    max_url_bytes: int = Field(
        8_192, ge=256, le=65_536, validation_alias="OMS_GATEWAY_MAX_URL_BYTES"
    )
    # A request's head must arrive within this time of its first byte (or of the
    # connection), its body within this time of the head; else 408 and the connection
    # is closed. Totals, not gaps: a byte every second must not keep a connection open.
    header_timeout_seconds: float = Field(
        10.0, gt=0, le=300, validation_alias="OMS_GATEWAY_HEADER_TIMEOUT_SECONDS"
    )
    body_timeout_seconds: float = Field(
        30.0, gt=0, le=600, validation_alias="OMS_GATEWAY_BODY_TIMEOUT_SECONDS"
    )
    # Refused pushes keep bounded metadata only, for this many days.
    rejected_retention_days: float = Field(
        14.0, gt=0, le=3650, validation_alias="OMS_GATEWAY_REJECTED_RETENTION_DAYS"
    )
    rejected_purge_seconds: float = Field(
        3600.0, gt=0, validation_alias="OMS_GATEWAY_REJECTED_PURGE_SECONDS"
    )
    # Signature failures per source address (RATE:BURST or off), apart from the
    # platform's own budget; over it, forged pushes get 429 and are not recorded.
    auth_failure_rate_limit: str = Field(
        "1:30", validation_alias="OMS_GATEWAY_AUTH_FAILURE_RATE_LIMIT"
    )
    # "development" (set by `make run`) is the only mode that accepts the published
    # development platform secrets.
    environment: Literal["development", "production"] = Field(
        "production", validation_alias="OMS_ENV"
    )

    @field_validator("auth_failure_rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate_limit(value)
        return value

    @property
    def development(self) -> bool:
        return self.environment == DEVELOPMENT

    @model_validator(mode="after")
    def _no_published_secret_outside_development(self) -> SecuritySettings:
        if self.development:
            return self
        for name, field in type(self).model_fields.items():
            value = getattr(self, name, None)
            if isinstance(value, SecretStr) and value.get_secret_value() in PUBLISHED_SECRETS:
                raise ValueError(
                    f"{field.validation_alias or name} is a published development secret "
                    "(anyone can sign with it): set your own, or OMS_ENV=development for a "
                    "local stack"
                )
        return self
