"""Refund settings are validated at start-up; the payment API key never shows."""

from __future__ import annotations

import pytest
from oms_aftersales.config import Settings
from pydantic import ValidationError


def test_the_payment_api_must_be_http_and_its_key_stays_secret() -> None:
    with pytest.raises(ValidationError):
        Settings(OMS_AFTERSALES_PAYMENT_API_URL="ftp://pay.example")
    with pytest.raises(ValidationError):
        Settings(OMS_AFTERSALES_REFUND_AUTO_APPROVE_MAX_MINOR_UNITS=-1)
    with pytest.raises(ValidationError):
        Settings(OMS_AFTERSALES_PAYMENT_TIMEOUT_SECONDS=0)
    settings = Settings(
        OMS_AFTERSALES_PAYMENT_API_URL="https://pay.example",
        OMS_AFTERSALES_PAYMENT_API_KEY="sk-live-do-not-print",
    )
    assert settings.payment_api_key.get_secret_value() == "sk-live-do-not-print"
    assert "sk-live-do-not-print" not in repr(settings)
    assert "sk-live-do-not-print" not in str(settings.model_dump())
