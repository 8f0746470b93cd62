"""A bad gateway secret stops start-up naming the variable, never showing the value."""

from __future__ import annotations

import pytest
from oms_gateway.config import Settings
from omslib.settings import load_settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OMS_GATEWAY_ADMIN_TOKEN", "short-tok-91f3"),
        ("OMS_PLATFORM_SHOP_SECRET", "not-a-whsec-secret-7c1d"),
    ],
)
def test_a_rejected_secret_is_named_not_shown(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as stopped:
        load_settings(Settings)
    message = str(stopped.value.code)
    assert variable in message
    assert value not in message
