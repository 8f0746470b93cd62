"""A configuration error names the variable but never shows a secret's value."""

import pytest
from omslib.settings import load_settings
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

TOKEN = "tok-3f9a1c7e"  # too short for the rule below
PASSWORD = "pg-pass-8d2b"


class Secrets(BaseSettings):
    admin_token: SecretStr | None = Field(None, validation_alias="OMS_GATEWAY_ADMIN_TOKEN")
    api_key: str = Field("", validation_alias="OMS_PLATFORM_JD_KEY")
    database_url: str = Field("sqlite://", validation_alias="OMS_ORDERS_DATABASE_URL")
    workers: int = Field(1, validation_alias="OMS_WORKERS")

    @field_validator("admin_token")
    @classmethod
    def _long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("use at least 16 characters")
        return value

    @field_validator("api_key", "database_url")
    @classmethod
    def _refuse(cls, value: str) -> str:
        if "bad" in value:
            raise ValueError("refused")
        return value

    @model_validator(mode="after")
    def _across(self) -> "Secrets":
        if self.workers > 1:
            raise ValueError("OMS_WORKERS > 1 needs a server database")
        return self


def _message(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exc:
        load_settings(Secrets)
    return str(exc.value.code)


def test_a_too_short_token_is_named_but_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _message(monkeypatch, OMS_GATEWAY_ADMIN_TOKEN=TOKEN)
    assert "OMS_GATEWAY_ADMIN_TOKEN" in message and "16 characters" in message
    assert TOKEN not in message


def test_a_key_by_its_name_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _message(monkeypatch, OMS_PLATFORM_JD_KEY=f"bad-{TOKEN}")
    assert "OMS_PLATFORM_JD_KEY" in message and TOKEN not in message


def test_a_database_url_is_shown_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://oms:{PASSWORD}@db.example/bad"
    message = _message(monkeypatch, OMS_ORDERS_DATABASE_URL=url)
    assert "postgresql://oms:***@db.example/bad" in message
    assert PASSWORD not in message


def test_a_rule_across_variables_does_not_dump_every_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = _message(
        monkeypatch,
        OMS_WORKERS="2",
        OMS_GATEWAY_ADMIN_TOKEN="a-long-enough-admin-token-1234",
    )
    assert "needs a server database" in message
    assert "a-long-enough-admin-token-1234" not in message
