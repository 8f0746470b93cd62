"""Standard Webhooks (https://www.standardwebhooks.com) signature scheme.

Headers: ``webhook-id``, ``webhook-timestamp`` (unix seconds) and
``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``,
possibly several space-separated signatures (key rotation); any ``v1`` match passes.
The key is the base64 decoding of the secret after its ``whsec_`` prefix.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import timedelta

from omslib.clock import Clock
from omslib.platforms.signing.standard_webhooks import (
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    compute_signature,
    decode_secret,
)

from oms_gateway.domain.errors import InvalidSignature, MissingSignatureHeaders, StaleTimestamp

DEFAULT_TOLERANCE = timedelta(minutes=5)
MAX_ID_LENGTH = 200


class StandardWebhookVerifier:
    """Checks headers and signature of one push; returns the message id."""

    def __init__(
        self, secret: str, *, clock: Clock, tolerance: timedelta = DEFAULT_TOLERANCE
    ) -> None:
        self._key = decode_secret(secret)
        self._clock = clock
        self._tolerance = tolerance

    def verify(self, headers: Mapping[str, str], body: bytes, *, hint: str) -> str:
        """Raise an ``Unauthenticated`` subclass or return the ``webhook-id``.

        ``hint`` tells the caller what to check (e.g. which variable holds the secret).
        """
        msg_id = headers.get(HEADER_ID, "").strip()
        stamp = headers.get(HEADER_TIMESTAMP, "").strip()
        signatures = headers.get(HEADER_SIGNATURE, "").strip()
        missing = [
            name
            for name, value in (
                (HEADER_ID, msg_id),
                (HEADER_TIMESTAMP, stamp),
                (HEADER_SIGNATURE, signatures),
            )
            if not value
        ]
        if missing:
            raise MissingSignatureHeaders(
                f"missing Standard Webhooks header(s): {', '.join(missing)}; "
                "sign every push with webhook-id, webhook-timestamp and webhook-signature",
                metadata={"headers": ",".join(missing)},
            )
        if len(msg_id) > MAX_ID_LENGTH:
            raise InvalidSignature(f"{HEADER_ID} is longer than {MAX_ID_LENGTH} characters")
        self._check_timestamp(stamp)
        expected = compute_signature(self._key, msg_id, stamp, body)
        if not any(
            hmac.compare_digest(candidate.encode(), expected.encode())
            for candidate in signatures.split()
            if candidate.startswith("v1,")
        ):
            raise InvalidSignature(
                "no v1 signature in webhook-signature matches the body; "
                f"sign '{{webhook-id}}.{{webhook-timestamp}}.{{raw body}}' ({hint})"
            )
        return msg_id

    def _check_timestamp(self, stamp: str) -> None:
        try:
            seconds = int(stamp)
        except ValueError:
            raise StaleTimestamp(
                f"{HEADER_TIMESTAMP} must be integer unix seconds, got {stamp[:40]!r}"
            ) from None
        skew = abs(self._clock.now().timestamp() - seconds)
        if skew > self._tolerance.total_seconds():
            raise StaleTimestamp(
                f"{HEADER_TIMESTAMP} is {int(skew)} s away from our clock (tolerance "
                f"{int(self._tolerance.total_seconds())} s); send a fresh timestamp "
                "and check the sender's clock"
            )
