"""Checks the admin bearer token from the request head, before any body is read.

FastAPI reads and parses a route's body before it runs the route's dependencies, so
a token check written as a dependency lets an anonymous client make the gateway
read and parse an arbitrarily large body first (and answers 422, not 401, to bad
JSON). This ASGI middleware answers 401 from the headers alone.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from oms_gateway.entrypoints.admin import WRONG_TOKEN
from oms_gateway.entrypoints.http_errors import error_response

ADMIN_PREFIX = "/admin"


class AdminTokenGuard:
    """401 for ``/admin/...`` requests without ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_admin(scope["path"]):
            refusal = self._refusal(scope)
            if refusal is not None:
                await error_response(401, *refusal)(scope, receive, send)
                return
        await self._app(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[str, str] | None:
        """(reason, message) when the request may not pass; a wrong token says so."""
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, given = value.partition(b" ")
                if scheme.lower() != b"bearer" or not given.strip():
                    break
                if hmac.compare_digest(given.strip(), self._token):
                    return None
                return "ADMIN_TOKEN_WRONG", WRONG_TOKEN
        return (
            "ADMIN_TOKEN_REQUIRED",
            "send Authorization: Bearer <OMS_GATEWAY_ADMIN_TOKEN> to use the admin API",
        )


def _is_admin(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
