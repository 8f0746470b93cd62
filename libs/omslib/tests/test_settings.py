from pathlib import Path

import pytest
from omslib.db.pool import PoolOptions
from omslib.settings import (
    CommonSettings,
    Port,
    addr_default,
    default_sqlite_url,
    load_settings,
)
from pydantic import Field


class OrdersSettings(CommonSettings):
    """How a service declares its own variables."""

    port: Port = Field(50051, validation_alias="OMS_ORDERS_PORT")
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("orders"),
        validation_alias="OMS_ORDERS_DATABASE_URL",
    )
    inventory_addr: str = Field(addr_default(50052), validation_alias="OMS_INVENTORY_ADDR")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OMS_ORDERS_PORT", "OMS_ORDERS_DATABASE_URL", "OMS_LOG_LEVEL", "OMS_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_apply_without_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(OrdersSettings)
    assert settings.port == 50051
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.log_level == "INFO"
    assert settings.shutdown_grace_seconds == 5
    assert settings.inventory_addr == "127.0.0.1:50052"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/var/orders.db"


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_ORDERS_PORT", "0")
    monkeypatch.setenv("OMS_ORDERS_DATABASE_URL", "postgresql://db/orders")
    monkeypatch.setenv("OMS_LOG_LEVEL", "debug")
    settings = load_settings(OrdersSettings)
    assert (settings.port, settings.database_url, settings.log_level) == (
        0,
        "postgresql://db/orders",
        "DEBUG",
    )


def test_bad_values_exit_naming_each_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_ORDERS_PORT", "70000")
    monkeypatch.setenv("OMS_LOG_LEVEL", "LOUD")
    with pytest.raises(SystemExit) as exc_info:
        load_settings(OrdersSettings)
    message = str(exc_info.value.code)
    assert "OMS_ORDERS_PORT=70000" in message or "OMS_ORDERS_PORT='70000'" in message
    assert "65535" in message
    assert "OMS_LOG_LEVEL='LOUD'" in message
    assert "DEBUG" in message
    assert len(message.splitlines()) == 3


def test_stream_length_reaches_the_relay_and_a_tiny_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from omslib.outbox import relay_settings

    monkeypatch.setenv("OMS_EVENTS_STREAM_MAXLEN", "5000")
    assert relay_settings(load_settings(OrdersSettings)).stream_maxlen == 5000
    monkeypatch.setenv("OMS_EVENTS_STREAM_MAXLEN", "10")
    with pytest.raises(SystemExit) as exc:
        load_settings(OrdersSettings)
    assert "OMS_EVENTS_STREAM_MAXLEN" in str(exc.value)


def test_tuning_variables_are_settings_that_name_themselves_when_bad(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMS_DB_POOL_SIZE", "lots")
    with pytest.raises(SystemExit, match="OMS_DB_POOL_SIZE='lots': Input should be a valid int"):
        load_settings(OrdersSettings)
    monkeypatch.setenv("OMS_DB_POOL_SIZE", "0")
    with pytest.raises(SystemExit, match="OMS_DB_POOL_SIZE='0': Input should be greater than or"):
        load_settings(OrdersSettings)
    monkeypatch.setenv("OMS_DB_POOL_SIZE", " ")
    monkeypatch.setenv("OMS_DB_PING_IDLE_SECONDS", "")
    assert load_settings(OrdersSettings).db_pool() == PoolOptions()
    monkeypatch.setenv("OMS_DB_POOL_SIZE", "3")
    monkeypatch.setenv("OMS_DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("OMS_DB_PING_IDLE_SECONDS", "0")
    assert load_settings(OrdersSettings).db_pool() == PoolOptions(3, 0, 0.0)


def test_the_worker_index_is_read_with_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMS_WORKER_INDEX", raising=False)
    assert load_settings(OrdersSettings).worker_index is None
    monkeypatch.setenv("OMS_WORKER_INDEX", "1")
    assert load_settings(OrdersSettings).worker_index == 1
