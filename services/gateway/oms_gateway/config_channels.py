"""Settings of the after-sales intake channels: aftersales' address, the WeChat token, the
merchants' web-form tokens and limits. Mixed into ``config.Settings``; environment only,
validated at start-up."""

from __future__ import annotations

import json
import re
from typing import Annotated

from omslib.settings import CommonSettings, addr_default
from omslib.settings_json import json_from_env
from pydantic import AfterValidator, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from oms_gateway.config_operations import RateLimit, parse_rate_limit
from oms_gateway.platforms.web_form import MERCHANT_PATTERN

ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
MIN_FORM_TOKEN_LENGTH = 16
MAX_FORM_TOKEN_LENGTH = 256


def _origin(value: str) -> str:
    if not ORIGIN.match(value):
        raise ValueError(
            f"{value[:100]!r} is not an origin like https://shop.example.com "
            "(scheme and host, optional port, no path)"
        )
    return value


Origin = Annotated[str, AfterValidator(_origin)]


class ChannelSettings(CommonSettings):
    aftersales_addr: str = Field(
        default_factory=lambda: addr_default(50053), validation_alias="OMS_AFTERSALES_ADDR"
    )
    aftersales_deadline_seconds: float = Field(
        10.0, gt=0, validation_alias="OMS_GATEWAY_AFTERSALES_DEADLINE_SECONDS"
    )
    #: The token set in the WeChat official account's server configuration; unset disables
    #: /webhooks/wechat (503 PLATFORM_NOT_CONFIGURED).
    wechat_token: SecretStr | None = Field(None, validation_alias="OMS_PLATFORM_WECHAT_TOKEN")
    #: JSON object ``{"merchant": "form token", ...}``; unset or {} disables the web form.
    form_tokens: SecretStr | None = Field(None, validation_alias="OMS_FORM_TOKENS")
    #: Token bucket per merchant's form, shared by every gateway replica (Redis).
    form_rate_limit: str = Field("2:30", validation_alias="OMS_FORM_RATE_LIMIT")
    form_max_body_bytes: int = Field(
        16_384, gt=0, le=1_048_576, validation_alias="OMS_FORM_MAX_BODY_BYTES"
    )
    #: Origins whose pages may post the form from a browser (CORS), JSON, e.g.
    #: ``["https://shop.example.com"]``; empty: same-origin only.
    form_allowed_origins: Annotated[
        list[Origin],
        NoDecode,
        json_from_env('["https://shop.example.com", "https://m.example.com:8443"]'),
    ] = Field(default_factory=list, validation_alias="OMS_FORM_ALLOWED_ORIGINS")

    @field_validator("wechat_token")
    @classmethod
    def _wechat_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        token = value.get_secret_value()
        # WeChat's console takes 3-32 letters and digits.
        if not (3 <= len(token) <= 32 and token.isascii() and token.isalnum()):
            raise ValueError("must be the account's token: 3 to 32 letters and digits")
        return value

    @field_validator("form_tokens")
    @classmethod
    def _form_tokens(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        parse_form_tokens(value.get_secret_value())  # ValueError says what is wrong
        return value

    @field_validator("form_rate_limit")
    @classmethod
    def _form_rate(cls, value: str) -> str:
        parse_rate_limit(value)
        return value

    def form_origins(self) -> list[str]:
        return list(self.form_allowed_origins)

    def form_token_map(self) -> dict[str, str]:
        return parse_form_tokens(self.form_tokens.get_secret_value()) if self.form_tokens else {}

    def form_rate(self) -> RateLimit | None:
        return parse_rate_limit(self.form_rate_limit)


def parse_form_tokens(text: str) -> dict[str, str]:
    """``{"merchant": "token"}``; errors never repeat a token."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f'must be a JSON object {{"merchant": "token"}}: {exc.msg}') from None
    if not isinstance(data, dict):
        raise ValueError('must be a JSON object {"merchant": "token"}')
    for merchant, token in data.items():
        if not MERCHANT_PATTERN.match(merchant):
            raise ValueError(
                f"merchant {merchant[:64]!r}: lower-case letters, digits, _ and -, at most 64"
            )
        if not isinstance(token, str) or not (
            MIN_FORM_TOKEN_LENGTH <= len(token) <= MAX_FORM_TOKEN_LENGTH
        ):
            raise ValueError(
                f"merchant {merchant!r}: the token must be a string of "
                f"{MIN_FORM_TOKEN_LENGTH} to {MAX_FORM_TOKEN_LENGTH} characters"
            )
    return dict(data)
