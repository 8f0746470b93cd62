"""Douyin shop (Doudian): ``event-sign`` = hex MD5(app_key + raw body + app_secret)."""

from __future__ import annotations

from omslib.platforms.signing.body_md5 import sign

HEADER_APP_ID = "app-id"
HEADER_SIGN = "event-sign"

__all__ = ["HEADER_APP_ID", "HEADER_SIGN", "sign"]
