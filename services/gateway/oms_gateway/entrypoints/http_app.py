"""HTTP entrypoint: translates requests to intake calls and results to responses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from oms_gateway.entrypoints.http_errors import (
    ErrorResponse,
    error_response,
    install_error_handlers,
)
from oms_gateway.entrypoints.offline_docs import install_offline_docs
from oms_gateway.entrypoints.push_endpoint import ROUTE, PushEndpoint
from oms_gateway.entrypoints.readiness import Readiness

Hook = Callable[[], Awaitable[None]]


@dataclass
class HttpDeps:
    push: PushEndpoint
    readiness: Readiness
    on_startup: Sequence[Hook] = field(default_factory=list)
    on_shutdown: Sequence[Hook] = field(default_factory=list)


class PushAccepted(BaseModel):
    status: Literal["accepted", "duplicate"]
    inbox_id: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "Signed, but the body is malformed or a field is invalid (the message names it).",
        401: "Missing signature headers, wrong signature or stale timestamp.",
        404: "Unknown platform.",
        413: "Body larger than OMS_GATEWAY_MAX_BODY_BYTES.",
        429: "Over the platform's rate limit; retry after Retry-After seconds.",
        503: "Platform not configured or inbox database unavailable; retry (Retry-After).",
    }.items()
}


def create_app(deps: HttpDeps) -> FastAPI:
    """The FastAPI app: every route, the OpenAPI description, the error handlers.

    ``deps.push`` serves ``POST /webhooks/{platform}``; the gateway's ASGI front
    (``entrypoints.asgi``) also calls it directly, without this app's routing.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for hook in deps.on_startup:
            await hook()
        try:
            yield
        finally:
            for hook in deps.on_shutdown:
                await hook()

    app = FastAPI(
        title="OMS gateway",
        version="1",
        description="Receives platform webhooks, stores them durably, delivers them to orders.",
        lifespan=lifespan,
        docs_url=None,  # served from the package instead of a CDN: see offline_docs
        redoc_url=None,
    )
    install_offline_docs(app)
    install_error_handlers(app)
    body_models = [adapter.body_model for adapter in deps.push.platforms.all()]
    _document_bodies(app, body_models)
    refs = [{"$ref": f"#/components/schemas/{model.__name__}"} for model in body_models]

    @app.post(
        ROUTE,
        status_code=202,
        response_model=PushAccepted,
        responses={200: {"model": PushAccepted, "description": "Duplicate event id."}, **_ERRORS},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": refs[0] if len(refs) == 1 else {"oneOf": refs}}
                },
            }
        },
        summary="Receive one platform push",
    )
    async def receive_webhook(platform: str, request: Request) -> Response:
        """Answered only after the push is committed to the inbox (202), or found there (200)."""
        return await deps.push(platform, request)

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="Readiness: database and orders reachable",
        responses={503: {"model": ErrorResponse}},
    )
    async def readyz() -> JSONResponse:
        checks = await deps.readiness.check()
        failed = {name: why for name, why in checks.items() if why != "ok"}
        if failed:
            message = "; ".join(f"{name}: {why}" for name, why in failed.items())
            return error_response(503, "NOT_READY", message, extra={"checks": checks})
        return JSONResponse({"status": "ready", "checks": checks})

    return app


def _document_bodies(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Publish the platform body models (read raw, so FastAPI cannot infer them)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
