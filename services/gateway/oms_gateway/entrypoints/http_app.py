"""HTTP entrypoint: translates requests to intake calls and results to responses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from omslib.telemetry import SPAN_ATTR_PLATFORM, current_traceparent
from opentelemetry import trace
from pydantic import BaseModel

from oms_gateway.domain.errors import PayloadTooLarge, RateLimited
from oms_gateway.entrypoints.http_errors import (
    ErrorResponse,
    error_response,
    install_error_handlers,
)
from oms_gateway.entrypoints.readiness import Readiness
from oms_gateway.platforms.base import acknowledgement
from oms_gateway.platforms.common import http_push
from oms_gateway.platforms.registry import PlatformRegistry
from oms_gateway.service_layer.delivery import SPAN_ATTR_INBOX_ID, SPAN_ATTR_PLATFORM_ORDER_ID
from oms_gateway.service_layer.intake import IntakeService
from oms_gateway.service_layer.ports import RateLimiterPort

Hook = Callable[[], Awaitable[None]]


@dataclass
class HttpDeps:
    platforms: PlatformRegistry
    intake: IntakeService
    readiness: Readiness
    max_body_bytes: int
    on_startup: Sequence[Hook] = field(default_factory=list)
    on_shutdown: Sequence[Hook] = field(default_factory=list)
    rate_limiter: RateLimiterPort | None = None


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


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(deps: HttpDeps) -> FastAPI:
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
    )
    install_error_handlers(app)
    body_models = [adapter.body_model for adapter in deps.platforms.all()]
    _document_bodies(app, body_models)
    refs = [{"$ref": f"#/components/schemas/{model.__name__}"} for model in body_models]

    @app.post(
        "/webhooks/{platform}",
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
    async def receive_webhook(platform: str, request: Request) -> JSONResponse:
        """Answered only after the push is committed to the inbox (202), or found there (200)."""
        span = trace.get_current_span()
        span.set_attribute(SPAN_ATTR_PLATFORM, platform)
        adapter = deps.platforms.enabled(platform)
        if deps.rate_limiter is not None:
            decision = await deps.rate_limiter.acquire(platform)
            if not decision.allowed:
                raise RateLimited(
                    f"platform {platform!r} is over its rate limit; retry later",
                    metadata={"retry_after_seconds": str(decision.retry_after_seconds)},
                )
        body = await read_limited_body(request, deps.max_body_bytes)
        result = await deps.intake.receive(
            adapter,
            http_push(platform, dict(request.headers.items()), request.url.query, body),
            traceparent=current_traceparent(),
        )
        span.set_attribute(SPAN_ATTR_INBOX_ID, result.inbox_id)
        for snapshot in result.translation.snapshots:
            span.set_attribute(SPAN_ATTR_PLATFORM_ORDER_ID, snapshot.platform_order_id)
        status_code, answer = acknowledgement(
            adapter, inbox_id=result.inbox_id, duplicate=result.duplicate
        )
        return JSONResponse(
            answer, status_code=status_code, headers={"x-oms-inbox-id": result.inbox_id}
        )

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
