from __future__ import annotations

import pytest
from oms_gateway.config import Settings
from omslib.platforms.samples.shop import new_secret
from omslib.settings import load_settings


def test_defaults() -> None:
    settings = load_settings(Settings)
    assert settings.port == 8080
    assert settings.orders_addr == "127.0.0.1:50051"
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.delivery_concurrency == 8
    assert settings.database_url.endswith("/var/gateway.db")


def test_unset_shop_secret_disables_the_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMS_PLATFORM_SHOP_SECRET", raising=False)
    assert load_settings(Settings).shop_secret is None


def test_valid_shop_secret_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = new_secret()
    monkeypatch.setenv("OMS_PLATFORM_SHOP_SECRET", secret)
    loaded = load_settings(Settings).shop_secret
    assert loaded is not None and loaded.get_secret_value() == secret


@pytest.mark.parametrize("bad", ["plain", "whsec_%%%", "whsec_"])
def test_malformed_shop_secret_fails_fast_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("OMS_PLATFORM_SHOP_SECRET", bad)
    with pytest.raises(SystemExit, match="OMS_PLATFORM_SHOP_SECRET"):
        load_settings(Settings)


def test_lease_must_outlive_the_orders_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_GATEWAY_DELIVERY_LEASE_SECONDS", "5")
    monkeypatch.setenv("OMS_GATEWAY_ORDERS_DEADLINE_SECONDS", "10")
    with pytest.raises(SystemExit, match="LEASE"):
        load_settings(Settings)


def test_one_worker_process_by_default() -> None:
    assert load_settings(Settings).workers == 1


def test_several_workers_need_a_server_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_GATEWAY_WORKERS", "2")
    monkeypatch.setenv("OMS_GATEWAY_DATABASE_URL", "sqlite+aiosqlite:///gateway.db")
    with pytest.raises(SystemExit, match="OMS_GATEWAY_WORKERS"):
        load_settings(Settings)
    monkeypatch.setenv("OMS_GATEWAY_DATABASE_URL", "postgresql://db.internal/gateway")
    assert load_settings(Settings).workers == 2
