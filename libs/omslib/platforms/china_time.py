"""The local time Taobao, JD, Youzan and Pinduoduo write: China Standard Time, no DST."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")
CHINA_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_china_time(value: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in UTC+8, as the platforms' SDKs send it."""
    return value.astimezone(CHINA).strftime(CHINA_TIME_FORMAT)
