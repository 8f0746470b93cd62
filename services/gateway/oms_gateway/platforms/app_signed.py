"""Douyin and Youzan check a push the same way: one header names the app (it must be
ours), another carries hex MD5(app key + raw body + secret), compared case-insensitively,
and both want ``{"code": 0, "msg": "success"}`` back."""

from __future__ import annotations

from typing import Any

from omslib.clock import Clock
from omslib.platforms.signing.body_md5 import sign

from oms_gateway.domain.errors import InvalidSignature
from oms_gateway.domain.inbox import RawPush
from oms_gateway.platforms.common import (
    CredentialedAdapter,
    Credentials,
    check_key,
    require_headers,
    same,
)

ACKNOWLEDGEMENT = {"code": 0, "msg": "success"}


class AppSignedAdapter(CredentialedAdapter):
    """Base of the Douyin and Youzan adapters; each names its headers and variables."""

    #: Every header a push must carry, in the order a refusal lists the missing ones.
    headers: tuple[str, ...]
    key_header: str
    sign_header: str
    #: e.g. "Douyin push", in the refusal of a push without the headers.
    scheme: str
    #: The signature in the platform's words, for the refusal of a wrong one.
    formula: str
    secret_env: str
    key_env: str

    def __init__(self, app_key: str | None, secret: str | None, *, clock: Clock) -> None:
        self._credentials = Credentials(
            secret=secret, secret_env=self.secret_env, key=app_key, key_env=self.key_env
        )
        self._clock = clock

    def acknowledge(self, *, inbox_id: str, duplicate: bool) -> tuple[int, dict[str, Any]]:
        return 200, dict(ACKNOWLEDGEMENT)

    def verify(self, push: RawPush) -> None:
        app_key, secret = self._credentials.require()
        values = require_headers(push, self.headers, self.scheme)
        got = dict(zip(self.headers, values, strict=True))
        check_key(got[self.key_header], app_key, what=self.key_header, env=self.key_env)
        if not same(got[self.sign_header], sign(app_key, secret, push.body), ignore_case=True):
            raise InvalidSignature(
                f"{self.sign_header} does not match {self.formula} (secret from {self.secret_env})"
            )
