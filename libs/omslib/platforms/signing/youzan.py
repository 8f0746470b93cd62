"""Youzan: ``Event-Sign`` = hex MD5(client_id + raw body + client_secret)."""

from __future__ import annotations

from omslib.platforms.signing.body_md5 import sign

HEADER_SIGN = "event-sign"
HEADER_CLIENT_ID = "client-id"
HEADER_TYPE = "event-type"

__all__ = ["HEADER_CLIENT_ID", "HEADER_SIGN", "HEADER_TYPE", "sign"]
