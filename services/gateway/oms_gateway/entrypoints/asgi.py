"""The ASGI application the gateway serves: pushes straight to their handler, the rest
through FastAPI.

At a promotion peak nearly every request is a push, and FastAPI's path to the
endpoint (routing, dependency solving, the exception and exit-stack middlewares,
the native telemetry checks) cost about a third of a push's CPU: 0.77 against
0.52 ms per verified-and-stored push on one process, measured under the bench
load (``docs/performance.md``). So ``POST /webhooks/{platform}`` is matched here
and handed to the same ``PushEndpoint`` the FastAPI route calls; a refusal becomes
its JSON error body through the same exception handlers FastAPI uses. Everything
else (health, admin, OpenAPI, lifespan) goes to the FastAPI app unchanged, and the
push route stays there too, so the OpenAPI description keeps documenting it.

Each push gets one server span, as every other request does from
``FastAPIInstrumentor``: named after the route template, continuing the push's
``traceparent`` (through the configured propagators), with the method, route,
target, user agent and status code in the same (``http.*``) attribute names. It is
started here (``_ServerSpan``) rather than by the OpenTelemetry ASGI middleware,
which costs a fifth of a push's remaining CPU (0.61 against 0.49 ms per push,
same bench) on attributes and wrappers a push does not need.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oms_gateway.entrypoints.push_endpoint import PREFIX, ROUTE, PushEndpoint

ErrorHandler = Callable[[Request, Exception], Any]

_tracer = trace.get_tracer("oms_gateway.push")


def gateway_asgi(api: FastAPI, push: PushEndpoint) -> ASGIApp:
    """``api`` for everything, except pushes, which go to ``push`` directly (traced)."""
    return _Front(api, _ServerSpan(_PushApp(push, api.exception_handlers)))


def push_platform(scope: Scope) -> str | None:
    """The platform of a ``POST /webhooks/{platform}`` request, else None."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    if not path.startswith(PREFIX):
        return None
    platform = path[len(PREFIX) :]
    return platform if platform and "/" not in platform else None


class _Front:
    def __init__(self, api: ASGIApp, pushes: ASGIApp) -> None:
        self._api = api
        self._pushes = pushes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._pushes if push_platform(scope) is not None else self._api
        await app(scope, receive, send)


class _PushApp:
    def __init__(self, push: PushEndpoint, handlers: dict[Any, ErrorHandler]) -> None:
        self._push = push
        self._handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        platform = push_platform(scope)
        assert platform is not None  # _Front sends only pushes here
        request = Request(scope, receive)
        response: Response
        try:
            response = await self._push(platform, request)
        except Exception as exc:
            response = await self._error_response(request, exc)
        await response(scope, receive, send)

    async def _error_response(self, request: Request, exc: Exception) -> Response:
        """The answer FastAPI's exception handlers give (most specific class first)."""
        for cls in type(exc).__mro__:
            handler = self._handlers.get(cls)
            if handler is not None:
                answer = handler(request, exc)
                return await answer if inspect.isawaitable(answer) else answer  # type: ignore[no-any-return]
        raise exc


class _ServerSpan:
    """The push's server span around ``app`` (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        attributes = {"http.method": "POST", "http.route": ROUTE, "http.target": scope["path"]}
        if "user-agent" in headers:
            attributes["http.user_agent"] = headers["user-agent"]
        status = 500  # unless a response starts

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with _tracer.start_as_current_span(
            f"POST {ROUTE}",
            context=propagate.extract(headers),
            kind=SpanKind.SERVER,
            attributes=attributes,
        ) as span:
            await self._app(scope, receive, send_noting_status)
            span.set_attribute("http.status_code", status)
            if status >= 500:
                span.set_status(StatusCode.ERROR)
