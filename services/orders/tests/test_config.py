"""Configuration comes from the environment and a bad value stops start-up by name."""

from __future__ import annotations

import pytest
from oms_orders.config import Settings
from omslib.settings import load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OMS_ORDERS_PORT", "OMS_INVENTORY_ADDR", "OMS_ORDERS_PAYMENT_DEADLINE_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(Settings)
    assert settings.port == 50051
    assert settings.inventory_addr == "127.0.0.1:50052"
    assert settings.payment_deadline_minutes == 30
    assert settings.inventory_timeout_seconds == 5.0
    assert settings.database_url.endswith("/var/orders.db")


@pytest.mark.parametrize("minutes", ["14", "31", "soon"])
def test_a_payment_deadline_outside_15_to_30_minutes_is_refused(
    monkeypatch: pytest.MonkeyPatch, minutes: str
) -> None:
    monkeypatch.setenv("OMS_ORDERS_PAYMENT_DEADLINE_MINUTES", minutes)
    with pytest.raises(SystemExit) as raised:
        load_settings(Settings)
    assert "OMS_ORDERS_PAYMENT_DEADLINE_MINUTES" in str(raised.value)
