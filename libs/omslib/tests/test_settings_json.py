"""Structured settings: JSON in a variable, checked by the field's type, errors that guide."""

from typing import Annotated

import pytest
from omslib.settings import load_settings
from omslib.settings_json import json_from_env, known_keys
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode

TOKEN = "tok-3f9a1c7e-very-secret"


class Feed(BaseModel):
    url: str = Field(pattern=r"^https?://")
    token: SecretStr | None = None


class Structured(BaseSettings):
    windows: Annotated[
        dict[str, Annotated[int, Field(ge=15, le=30)]],
        NoDecode,
        json_from_env('{"taobao": 15, "jd": 20}'),
        known_keys({"taobao", "jd"}),
    ] = Field(default_factory=dict, validation_alias="OMS_TEST_WINDOWS")
    names: Annotated[list[str], NoDecode, json_from_env('["a", "b"]')] = Field(
        default_factory=list, validation_alias="OMS_TEST_NAMES"
    )
    feeds: Annotated[list[Feed], NoDecode, json_from_env('[{"url": "https://h"}]')] = Field(
        default_factory=list, validation_alias="OMS_TEST_FEEDS"
    )


def _message(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exc:
        load_settings(Structured)
    return str(exc.value.code)


def test_json_values_become_typed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_TEST_WINDOWS", '{"taobao": 15}')
    monkeypatch.setenv("OMS_TEST_NAMES", '["x"]')
    settings = load_settings(Structured)
    assert settings.windows == {"taobao": 15} and settings.names == ["x"]


def test_blank_is_empty_like_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_TEST_WINDOWS", " ")
    monkeypatch.setenv("OMS_TEST_NAMES", "")
    settings = load_settings(Structured)
    assert settings.windows == {} and settings.names == []


def test_the_old_name_value_form_is_refused_with_the_json_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = _message(monkeypatch, OMS_TEST_WINDOWS="taobao=15,jd=20")
    assert "OMS_TEST_WINDOWS='taobao=15,jd=20'" in message
    assert 'write it as JSON, e.g. {"taobao": 15, "jd": 20}' in message


def test_an_entry_out_of_range_is_named_by_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _message(monkeypatch, OMS_TEST_WINDOWS='{"jd": 40}')
    assert "OMS_TEST_WINDOWS[jd]=40: Input should be less than or equal to 30" in message


def test_an_unknown_key_is_refused_naming_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _message(monkeypatch, OMS_TEST_WINDOWS='{"tabao": 15}')
    assert "unknown platform tabao; one of jd, taobao" in message


def test_a_key_given_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _message(monkeypatch, OMS_TEST_WINDOWS='{"jd": 15, "jd": 20}')
    assert "'jd' is named twice" in message


def test_a_value_holding_a_secret_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    bad_json = f'[{{"url": "https://h", "token": "{TOKEN}"'
    message = _message(monkeypatch, OMS_TEST_FEEDS=bad_json)
    assert "OMS_TEST_FEEDS=<hidden" in message and "write it as JSON" in message
    bad_entry = f'[{{"url": "ftp://h", "token": "{TOKEN}"}}]'
    message = _message(monkeypatch, OMS_TEST_FEEDS=bad_entry)
    assert "OMS_TEST_FEEDS[0][url]=<hidden" in message
    assert TOKEN not in message
