"""Every timestamp format the platforms' own SDKs send is accepted (docs/platforms.md,
"Timestamps"), still within the tolerance; anything else is refused naming the formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from oms_gateway.domain.errors import InvalidPayload, StaleTimestamp
from oms_gateway.domain.inbox import RawPush
from oms_gateway.platforms import jd
from oms_gateway.platforms.common import china_time, parse_china_time
from omslib.clock import FakeClock
from omslib.platforms import samples

NOW = datetime(2025, 11, 11, 4, 0, 0, tzinfo=UTC)  # 12:00:00 in UTC+8
KEY, SECRET = "jd-key", "jd-secret"

# (what the SDK sends, the instant it means)
SDK_FORMATS = [
    ("2025-11-11 12:00:00", NOW),  # JD before 2.0, Taobao, Youzan, Pinduoduo
    ("2025-11-11 12:00:00.123+0800", NOW.replace(microsecond=123_000)),  # newer JD SDKs
    ("2025-11-11 12:00:00.123", NOW.replace(microsecond=123_000)),
    ("2025-11-11 12:00:00+08:00", NOW),
    ("2025-11-11 04:00:00.5Z", NOW.replace(microsecond=500_000)),
    ("2025-11-11 05:00:00.000+0100", NOW),
]


@pytest.mark.parametrize(("text", "instant"), SDK_FORMATS)
def test_sdk_formats_parse_to_the_same_instant(text: str, instant: datetime) -> None:
    assert parse_china_time(text) == instant
    assert china_time(text, field="modified") == instant


@pytest.mark.parametrize(
    "text",
    [
        "2025-11-11T12:00:00",
        "2025/11/11 12:00:00",
        "2025-11-11 12:00",
        "2025-13-11 12:00:00",
        "2025-11-11 12:00:00+2500",
        "2025-11-11 12:00:00.1234567",
        "1731297600",
        "",
    ],
)
def test_other_texts_are_refused_naming_the_formats(text: str) -> None:
    assert parse_china_time(text) is None
    with pytest.raises(InvalidPayload) as refused:
        china_time(text, field="modified")
    assert "yyyy-MM-dd HH:mm:ss" in refused.value.message and "+0800" in refused.value.message


def _jd_push(timestamp_text: str) -> RawPush:
    order = samples.jd.sample_order("3001", [("SKU-1", 1)])
    body = samples.jd.signed_form(KEY, SECRET, order, timestamp_text=timestamp_text)
    return RawPush("jd", {"content-type": "application/x-www-form-urlencoded"}, body)


@pytest.mark.parametrize(("text", "_instant"), SDK_FORMATS)
def test_a_jd_push_signed_by_any_sdk_is_accepted(text: str, _instant: datetime) -> None:
    adapter = jd.JdAdapter(KEY, SECRET, clock=FakeClock(NOW))
    adapter.verify(_jd_push(text))  # raises if refused


def test_the_newer_jd_format_is_still_held_to_the_tolerance() -> None:
    adapter = jd.JdAdapter(KEY, SECRET, clock=FakeClock(NOW + timedelta(minutes=11)))
    with pytest.raises(StaleTimestamp):
        adapter.verify(_jd_push("2025-11-11 12:00:00.123+0800"))
