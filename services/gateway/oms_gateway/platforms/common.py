"""Helpers the marketplace adapters share: credentials, body parsing, money and time."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from omslib.clock import Clock
from omslib.platforms.china_time import CHINA, CHINA_TIME_FORMAT
from pydantic import BaseModel, ValidationError

from oms_gateway.domain.errors import (
    InvalidPayload,
    InvalidSignature,
    MalformedJson,
    MissingSignatureHeaders,
    PlatformNotConfigured,
    StaleTimestamp,
)
from oms_gateway.domain.inbox import RawPush

M = TypeVar("M", bound=BaseModel)

#: Pseudo-header under which the HTTP entrypoint keeps the request's query string, so that
#: the stored push (headers + body) holds everything a signature covers (Taobao, JD).
QUERY_HEADER = "x-oms-query-string"

#: What the platforms' own SDKs send (docs/platforms.md, "Timestamps"): older JD and
#: every Taobao/Youzan/Pinduoduo SDK ``yyyy-MM-dd HH:mm:ss`` in UTC+8; newer JD SDKs
#: ``yyyy-MM-dd HH:mm:ss.SSS+0800`` (Java's ``SSSZ``). Milliseconds and an explicit
#: offset (``+0800``, ``+08:00``, ``Z``) are each optional; without one, UTC+8.
CHINA_TIME_FORMATS = "'yyyy-MM-dd HH:mm:ss', optionally with '.SSS' and an offset like '+0800'"
_CHINA_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?"
    r"(?:(Z)|([+-])(\d{2}):?(\d{2}))?"
)


def parse_china_time(value: str) -> datetime | None:
    """A platform time in any of CHINA_TIME_FORMATS as an aware datetime, else None."""
    match = _CHINA_TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    day, clock, fraction, zulu, sign, hours, minutes = match.groups()
    if zulu:
        zone = UTC
    elif sign:
        offset = timedelta(hours=int(hours), minutes=int(minutes))
        if offset > timedelta(hours=14) or int(minutes) >= 60:
            return None
        zone = timezone(offset if sign == "+" else -offset)
    else:
        zone = CHINA
    try:
        when = datetime.strptime(f"{day} {clock}", CHINA_TIME_FORMAT)
    except ValueError:
        return None
    micros = int((fraction or "0").ljust(6, "0"))
    return when.replace(microsecond=micros, tzinfo=zone)


MAX_EVENT_ID_LENGTH = 200
#: Bounds that keep a signed but absurd value from reaching orders (int32/int64 fields).
MAX_QUANTITY = 1_000_000
MAX_MINOR_UNITS = 10**13


def http_push(platform: str, headers: Mapping[str, str], query_string: str, body: bytes) -> RawPush:
    """A ``RawPush`` from an HTTP request: lower-cased headers plus the query string."""
    lowered = {name.lower(): value for name, value in headers.items()}
    lowered.pop(QUERY_HEADER, None)  # only ever what the URL said
    if query_string:
        lowered[QUERY_HEADER] = query_string
    return RawPush(platform=platform, headers=lowered, body=body)


def query_params(push: RawPush) -> dict[str, str]:
    """The push's query parameters (last value wins, blanks kept)."""
    return dict(parse_qsl(push.headers.get(QUERY_HEADER, ""), keep_blank_values=True))


@dataclass(frozen=True)
class Credentials:
    """A platform's app key/client id (if it has one) and secret, with the variables they
    come from (for the operator's hints)."""

    secret: str | None
    secret_env: str
    key: str | None = None
    key_env: str | None = None

    @property
    def complete(self) -> bool:
        return bool(self.secret) and (self.key_env is None or bool(self.key))

    def hint(self) -> str:
        names = [self.secret_env] + ([self.key_env] if self.key_env else [])
        return f"set {' and '.join(names)} and restart"

    def require(self) -> tuple[str, str]:
        """``(key, secret)`` or raise ``PlatformNotConfigured``."""
        if not self.complete or self.secret is None:
            raise PlatformNotConfigured(self.hint())
        return self.key or "", self.secret


class CredentialedAdapter:
    """Base for adapters that are enabled exactly when their credentials are complete."""

    _credentials: Credentials

    @property
    def enabled(self) -> bool:
        return self._credentials.complete

    def disabled_hint(self) -> str:
        return self._credentials.hint()


def same(candidate: str, expected: str, *, ignore_case: bool = False) -> bool:
    """Constant-time comparison of two signatures."""
    if ignore_case:
        candidate, expected = candidate.lower(), expected.lower()
    return hmac.compare_digest(candidate.encode(), expected.encode())


def require_headers(push: RawPush, names: Sequence[str], scheme: str) -> list[str]:
    values = [push.headers.get(name, "").strip() for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise MissingSignatureHeaders(
            f"missing {scheme} header(s): {', '.join(missing)}",
            metadata={"headers": ",".join(missing)},
        )
    return values


def check_key(got: str, configured: str, *, what: str, env: str) -> None:
    """A push for another app/client is refused like a bad signature."""
    if not same(got, configured):
        raise InvalidSignature(
            f"{what} {got[:64]!r} is not the one configured in {env}; "
            "the push is for another app or the variable is wrong"
        )


def check_china_timestamp(stamp: str, clock: Clock, tolerance: timedelta, *, field: str) -> None:
    when = parse_china_time(stamp)
    if when is None:
        raise StaleTimestamp(
            f"{field} must be {CHINA_TIME_FORMATS} (UTC+8 when no offset), got {stamp[:40]!r}"
        )
    skew = abs((clock.now() - when).total_seconds())
    if skew > tolerance.total_seconds():
        raise StaleTimestamp(
            f"{field} is {int(skew)} s away from our clock (tolerance "
            f"{int(tolerance.total_seconds())} s); send a fresh timestamp and check the "
            "sender's clock (UTC+8)"
        )


def check_signed_params(
    params: Mapping[str, str],
    required: Sequence[str],
    *,
    scheme: str,
    app_key: str,
    key_env: str,
    clock: Clock,
    tolerance: timedelta,
) -> None:
    """Taobao (Qimen) and JD (JOS) sign parameters: each required one is there, ``app_key``
    is ours and ``timestamp`` is fresh; the caller then checks ``sign``."""
    missing = [name for name in required if not params.get(name, "").strip()]
    if missing:
        raise MissingSignatureHeaders(
            f"missing {scheme} parameter(s): {', '.join(missing)}",
            metadata={"headers": ",".join(missing)},
        )
    check_key(params["app_key"], app_key, what="app_key", env=key_env)
    check_china_timestamp(params["timestamp"], clock, tolerance, field="timestamp")


def load_json(raw: bytes | str, *, what: str = "the body") -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedJson(f"{what} is not valid JSON: {exc}") from None


def validate(model: type[M], data: Any, *, prefix: str = "") -> M:
    """Validate ``data``; errors name the first offending field (``orders.0.num``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        parts = ([prefix] if prefix else []) + [str(part) for part in first["loc"]]
        field = ".".join(parts) or "body"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidPayload(
            f"{field}: {first['msg']}{more}; see the {model.__name__} schema in /openapi.json",
            metadata={"field": field},
        ) from None


def event_id(value: str, *, field: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidPayload(f"{field} is missing", metadata={"field": field})
    if len(value) > MAX_EVENT_ID_LENGTH:
        raise InvalidPayload(
            f"{field} is longer than {MAX_EVENT_ID_LENGTH} characters", metadata={"field": field}
        )
    return value


def minor_units(value: str | int | Decimal, *, field: str, exponent: int = 2) -> int:
    """A decimal amount in major units ("12.34" yuan) as integer minor units (1234 fen)."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidPayload(
            f"{field}: {value!r} is not a decimal amount", metadata={"field": field}
        ) from None
    if not amount.is_finite() or amount < 0 or amount.scaleb(exponent) > MAX_MINOR_UNITS:
        raise InvalidPayload(
            f"{field}: {value!r} is not a non-negative amount below {MAX_MINOR_UNITS} minor units",
            metadata={"field": field},
        )
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise InvalidPayload(
            f"{field}: {value!r} has more than {exponent} decimals", metadata={"field": field}
        )
    return int(scaled)


def china_time(value: str, *, field: str) -> datetime:
    """``yyyy-MM-dd HH:mm:ss`` in UTC+8 (or any of CHINA_TIME_FORMATS) -> aware UTC."""
    when = parse_china_time(value)
    if when is None:
        raise InvalidPayload(
            f"{field}: {str(value)[:40]!r} is not {CHINA_TIME_FORMATS}", metadata={"field": field}
        )
    return when.astimezone(UTC)


def unix_time(value: int, *, field: str) -> datetime:
    try:
        if value <= 0:
            raise ValueError(value)
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidPayload(
            f"{field}: {value!r} is not unix seconds", metadata={"field": field}
        ) from None


def status_of(table: Mapping[Any, Any], value: Any, *, field: str) -> Any:
    try:
        return table[value]
    except KeyError:
        known = ", ".join(str(key) for key in table)
        raise InvalidPayload(
            f"{field}: unknown status {value!r}; known: {known}", metadata={"field": field}
        ) from None
