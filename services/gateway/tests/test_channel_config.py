"""Configuration of the after-sales channels: checked at start-up, never echoing a token."""

from __future__ import annotations

import json

import pytest
from oms_gateway.config import Settings
from omslib.settings import load_settings


def test_channel_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OMS_AFTERSALES_ADDR", "OMS_PLATFORM_WECHAT_TOKEN", "OMS_FORM_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(Settings)
    assert settings.aftersales_addr == "127.0.0.1:50053"
    assert settings.wechat_token is None
    assert settings.form_token_map() == {}
    assert settings.form_rate() is not None


def test_form_tokens_are_read_per_merchant(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = {"acme": "a" * 16, "shop-2": "b" * 20}
    monkeypatch.setenv("OMS_FORM_TOKENS", json.dumps(tokens))
    assert load_settings(Settings).form_token_map() == tokens


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("not json", "JSON object"),
        ('["acme"]', "JSON object"),
        ('{"Acme Inc": "0123456789abcdef"}', "merchant"),
        ('{"acme": "short-secret"}', "16 to 256"),
        ('{"acme": 1234567890123456789}', "16 to 256"),
    ],
)
def test_malformed_form_tokens_fail_fast_without_echoing_a_token(
    monkeypatch: pytest.MonkeyPatch, value: str, named: str
) -> None:
    monkeypatch.setenv("OMS_FORM_TOKENS", value)
    with pytest.raises(SystemExit) as failure:
        load_settings(Settings)
    message = str(failure.value)
    assert "OMS_FORM_TOKENS" in message and named in message
    assert "short-secret" not in message and "0123456789abcdef" not in message


@pytest.mark.parametrize("bad", ["ab", "x" * 33, "has space", "令牌令牌"])
def test_malformed_wechat_token_fails_fast(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("OMS_PLATFORM_WECHAT_TOKEN", bad)
    with pytest.raises(SystemExit, match="OMS_PLATFORM_WECHAT_TOKEN"):
        load_settings(Settings)


def test_lease_must_outlive_the_aftersales_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_GATEWAY_AFTERSALES_DEADLINE_SECONDS", "90")
    with pytest.raises(SystemExit, match="OMS_GATEWAY_AFTERSALES_DEADLINE_SECONDS"):
        load_settings(Settings)


@pytest.mark.parametrize("bad", ["shop.example.com", "https://shop.example.com/", "*"])
def test_form_origins_must_be_origins(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("OMS_FORM_ALLOWED_ORIGINS", json.dumps(["https://ok.example.com", bad]))
    with pytest.raises(SystemExit, match="OMS_FORM_ALLOWED_ORIGINS"):
        load_settings(Settings)
