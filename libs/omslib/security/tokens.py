"""Signed service tokens (HS256 JWTs) for deployments where TLS ends before the service.

A token names its caller (``sub``), the audience ``oms`` and a short expiry. The
key is ``OMS_SERVICE_TOKEN_SECRET``, shared by the services of one deployment.
"""

from __future__ import annotations

import time

import jwt

AUDIENCE = "oms"
ALGORITHM = "HS256"
#: Tokens live this long; clients sign a fresh one before the old one is close to expiring.
LIFETIME_SECONDS = 300
#: Longer-lived tokens are refused even when correctly signed: a leaked token must die soon.
MAX_LIFETIME_SECONDS = 3600
#: Clock skew tolerated between services.
LEEWAY_SECONDS = 30
#: Tokens are small; anything bigger is refused before it is parsed.
MAX_TOKEN_BYTES = 2048


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired or not for us."""


def sign(identity: str, secret: bytes, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {"sub": identity, "aud": AUDIENCE, "iat": issued, "exp": issued + LIFETIME_SECONDS}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: str, secret: bytes) -> str:
    """The identity a valid token names; raises ``InvalidToken`` (without details) otherwise."""
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken("token too long")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            leeway=LEEWAY_SECONDS,
            options={"require": ["sub", "aud", "iat", "exp"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("no subject")
    if int(claims["exp"]) - int(claims["iat"]) > MAX_LIFETIME_SECONDS:
        raise InvalidToken("lifetime too long")
    return subject


class TokenSigner:
    """Hands out a token for ``identity``, signing a new one shortly before expiry."""

    def __init__(self, identity: str, secret: bytes) -> None:
        self._identity = identity
        self._secret = secret
        self._token = ""
        self._renew_at = 0.0

    def token(self) -> str:
        now = time.time()
        if now >= self._renew_at:
            self._token = sign(self._identity, self._secret, now=now)
            self._renew_at = now + LIFETIME_SECONDS / 2
        return self._token
