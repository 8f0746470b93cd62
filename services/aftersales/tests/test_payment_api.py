"""The reference payment-API adapter against a real local HTTP server: an unknown
outcome is retried with the same key and money goes out once; the key stays secret."""

from __future__ import annotations

import logging

import pytest
from fake_payments import FakePayments, running_fake_payments
from oms_aftersales.adapters.payment_api import HttpPaymentApi
from oms_aftersales.domain.payouts import PayoutRefused, PayoutRequest, PayoutUnknown


def request(key: str = "refund-R1", amount: int = 1999) -> PayoutRequest:
    return PayoutRequest(key=key, payment_reference="PAY-1", amount=amount, currency="CNY")


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    with running_fake_payments(FakePayments()) as server:
        yield server


async def test_paid_once_per_key_even_when_asked_twice(fake: FakePayments) -> None:
    api = HttpPaymentApi(fake.url, fake.api_key, timeout=5)
    first = await api.refund(request())
    second = await api.refund(request())  # the provider answers the stored refund
    await api.aclose()
    assert first == second == "re_1"
    assert fake.payments == {"refund-R1": 1}


async def test_a_late_answer_is_unknown_and_the_retry_with_the_same_key_pays_nothing_more(
    fake: FakePayments,
) -> None:
    fake.script = ["late"]
    api = HttpPaymentApi(fake.url, fake.api_key, timeout=0.3)
    with pytest.raises(PayoutUnknown):
        await api.refund(request())
    assert fake.payments == {"refund-R1": 1}  # the money did go out
    assert await api.refund(request()) == "re_1"
    await api.aclose()
    assert fake.payments == {"refund-R1": 1}
    assert fake.requests == ["refund-R1", "refund-R1"]


async def test_a_server_failure_is_unknown_a_refusal_is_final(fake: FakePayments) -> None:
    fake.script = ["fail", "refuse"]
    api = HttpPaymentApi(fake.url, fake.api_key, timeout=5)
    with pytest.raises(PayoutUnknown):
        await api.refund(request("refund-A"))
    with pytest.raises(PayoutRefused) as refused:
        await api.refund(request("refund-B"))
    await api.aclose()
    assert refused.value.reason == "PAYMENT_NOT_REFUNDABLE"
    assert not fake.payments


async def test_an_unreachable_provider_is_unknown_and_the_key_never_shows(
    fake: FakePayments, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = HttpPaymentApi(fake.url, "sk-wrong-secret", timeout=5)
    with pytest.raises(PayoutRefused) as refused:  # 401: refused, with no key in it
        await wrong.refund(request())
    await wrong.aclose()
    down = HttpPaymentApi("http://127.0.0.1:9", fake.api_key, timeout=1)
    with pytest.raises(PayoutUnknown) as unknown:
        await down.refund(request())
    await down.aclose()
    for text in (str(refused.value), str(unknown.value), caplog.text):
        assert fake.api_key not in text and "sk-wrong-secret" not in text
