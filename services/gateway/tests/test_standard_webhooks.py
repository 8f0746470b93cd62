from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from oms_gateway.domain.errors import InvalidSignature, MissingSignatureHeaders, StaleTimestamp
from oms_gateway.platforms.standard_webhooks import (
    StandardWebhookVerifier,
    compute_signature,
    decode_secret,
)
from omslib.clock import FakeClock
from omslib.platforms.samples.shop import new_secret, sign_standard_webhook

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BODY = b'{"type":"order.created"}'


@pytest.fixture
def secret() -> str:
    return new_secret()


def verifier(secret: str, now: datetime = NOW) -> StandardWebhookVerifier:
    return StandardWebhookVerifier(secret, clock=FakeClock(now))


def headers(
    secret: str, *, msg_id: str = "msg_1", at: datetime = NOW, body: bytes = BODY
) -> dict[str, str]:
    return sign_standard_webhook(secret, msg_id, int(at.timestamp()), body)


def test_valid_signature_returns_the_message_id(secret: str) -> None:
    assert verifier(secret).verify(headers(secret), BODY, hint="") == "msg_1"


def test_matches_the_standard_webhooks_reference_vector() -> None:
    # From the Standard Webhooks specification's reference implementation tests.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert compute_signature(decode_secret(secret), msg_id, 1614265330, body) == expected


def test_any_of_several_signatures_may_match(secret: str) -> None:
    other = new_secret()
    signed = headers(secret)
    signed["webhook-signature"] = (
        f"{headers(other)['webhook-signature']} v2,abc {signed['webhook-signature']}"
    )
    assert verifier(secret).verify(signed, BODY, hint="") == "msg_1"


def test_wrong_secret_is_refused(secret: str) -> None:
    with pytest.raises(InvalidSignature):
        verifier(secret).verify(headers(new_secret()), BODY, hint="")


def test_tampered_body_is_refused(secret: str) -> None:
    with pytest.raises(InvalidSignature):
        verifier(secret).verify(headers(secret), BODY + b" ", hint="")


def test_changed_message_id_is_refused(secret: str) -> None:
    signed = headers(secret)
    signed["webhook-id"] = "msg_2"
    with pytest.raises(InvalidSignature):
        verifier(secret).verify(signed, BODY, hint="")


@pytest.mark.parametrize(
    "offset", [timedelta(minutes=-5, seconds=-1), timedelta(minutes=5, seconds=1)]
)
def test_timestamps_outside_five_minutes_are_refused(secret: str, offset: timedelta) -> None:
    with pytest.raises(StaleTimestamp):
        verifier(secret).verify(headers(secret, at=NOW + offset), BODY, hint="")


@pytest.mark.parametrize("offset", [timedelta(minutes=-5), timedelta(minutes=5)])
def test_timestamps_within_five_minutes_pass(secret: str, offset: timedelta) -> None:
    assert verifier(secret).verify(headers(secret, at=NOW + offset), BODY, hint="") == "msg_1"


def test_non_numeric_timestamp_is_refused(secret: str) -> None:
    signed = headers(secret)
    signed["webhook-timestamp"] = "yesterday"
    with pytest.raises(StaleTimestamp):
        verifier(secret).verify(signed, BODY, hint="")


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_named(secret: str, missing: str) -> None:
    signed = headers(secret)
    del signed[missing]
    with pytest.raises(MissingSignatureHeaders, match=missing):
        verifier(secret).verify(signed, BODY, hint="")


def test_signature_without_v1_prefix_is_refused(secret: str) -> None:
    signed = headers(secret)
    signed["webhook-signature"] = signed["webhook-signature"].removeprefix("v1,")
    with pytest.raises(InvalidSignature):
        verifier(secret).verify(signed, BODY, hint="")


@pytest.mark.parametrize(
    "bad",
    ["", "secret", "whsec_", "whsec_not base64!", base64.b64encode(b"key").decode()],
)
def test_bad_secret_format_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        decode_secret(bad)
