"""Import raw requests cut from access logs: each goes through the platform's
verification and the normal intake path, exactly as if the platform had sent it again.

A record is ``{"method": "POST", "path": "/webhooks/shop", "headers": {...},
"body": "<raw text>"}`` (or ``"body_base64"`` for bytes that are not UTF-8), with
an optional ``"time"`` (RFC 3339): when the request was originally received.
Signed timestamps are checked against that time, not against now, so a push
recovered from yesterday's logs is not refused as stale; its signature must
still match byte for byte.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from omslib.clock import Clock, FakeClock
from omslib.errors import DomainError, InvalidArgument

from oms_gateway.domain.errors import InboxUnavailable
from oms_gateway.domain.inbox import RawPush
from oms_gateway.platforms.common import http_push
from oms_gateway.platforms.registry import PlatformRegistry
from oms_gateway.service_layer.intake import IntakeService

WEBHOOK_PREFIX = "/webhooks/"

ImportStatus = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True)
class ImportOutcome:
    status: ImportStatus
    inbox_id: str | None = None
    reason: str | None = None
    message: str | None = None


class RequestImporter:
    def __init__(
        self,
        intake: IntakeService,
        platforms_at: Callable[[Clock], PlatformRegistry],
        clock: Clock,
        *,
        max_body_bytes: int,
    ) -> None:
        self._intake = intake
        self._platforms_at = platforms_at
        self._clock = clock
        self._max_body_bytes = max_body_bytes
        self._now_registry = platforms_at(clock)

    async def import_one(self, record: Mapping[str, Any], traceparent: str | None) -> ImportOutcome:
        """Verify and store one record; ``InboxUnavailable`` propagates (retry the import)."""
        try:
            platform, push, received_at = self._parse(record)
            registry = (
                self._now_registry
                if received_at is None
                else self._platforms_at(FakeClock(received_at))
            )
            adapter = registry.enabled(platform)
            result = await self._intake.receive(adapter, push, traceparent=traceparent)
        except InboxUnavailable:
            raise
        except DomainError as err:
            return ImportOutcome("rejected", reason=err.reason, message=err.message)
        status: ImportStatus = "duplicate" if result.duplicate else "accepted"
        return ImportOutcome(status, inbox_id=result.inbox_id)

    def _parse(self, record: Mapping[str, Any]) -> tuple[str, RawPush, datetime | None]:
        method = str(record.get("method", "POST")).upper()
        if method != "POST":
            raise _bad(f"method {method}: only POST requests to /webhooks/... can be imported")
        path = str(record.get("path", ""))
        route, _, query = path.partition("?")
        if not route.startswith(WEBHOOK_PREFIX) or "/" in route[len(WEBHOOK_PREFIX) :]:
            raise _bad(f"path {path!r}: expected /webhooks/<platform>")
        platform = route[len(WEBHOOK_PREFIX) :]
        raw_headers = record.get("headers") or {}
        if not isinstance(raw_headers, Mapping):
            raise _bad("headers: expected an object of name -> value")
        headers = {str(name): str(value) for name, value in raw_headers.items()}
        body = _body(record)
        if len(body) > self._max_body_bytes:
            raise _bad(f"body of {len(body)} bytes exceeds the limit of {self._max_body_bytes}")
        received_at = None
        if record.get("time"):
            try:
                received_at = datetime.fromisoformat(str(record["time"]).replace("Z", "+00:00"))
            except ValueError:
                raise _bad(f"time {record['time']!r}: expected RFC 3339") from None
            if received_at.tzinfo is None:
                raise _bad(f"time {record['time']!r}: needs a UTC offset")
        # The same RawPush as the webhook route builds (lower-cased headers, query string).
        return platform, http_push(platform, headers, query, body), received_at


def _body(record: Mapping[str, Any]) -> bytes:
    if record.get("body_base64") is not None:
        try:
            return base64.b64decode(str(record["body_base64"]), validate=True)
        except (binascii.Error, ValueError):
            raise _bad("body_base64: not valid base64") from None
    body = record.get("body", "")
    if isinstance(body, str):
        return body.encode()
    raise _bad("body: expected the raw body as a string (or body_base64)")


class InvalidImportRecord(InvalidArgument):
    reason = "INVALID_IMPORT_RECORD"


def _bad(message: str) -> InvalidImportRecord:
    return InvalidImportRecord(message)
