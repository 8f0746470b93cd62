"""HTTP routes of the after-sales intake channels that are not plain pushes: the WeChat
console's URL check (``GET /webhooks/wechat``) and the merchants' web form
(``POST /forms/{merchant}/tickets``). WeChat's messages themselves are pushes
(``POST /webhooks/wechat``, ``push_endpoint``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from omslib.clock import Clock
from omslib.telemetry import current_traceparent
from opentelemetry import trace
from pydantic import BaseModel
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from oms_gateway.domain.errors import RateLimited
from oms_gateway.entrypoints.http_errors import ErrorResponse
from oms_gateway.entrypoints.push_endpoint import read_limited_body
from oms_gateway.platforms import web_form
from oms_gateway.platforms.registry import PlatformRegistry
from oms_gateway.platforms.wechat import NAME as WECHAT
from oms_gateway.platforms.wechat import WechatAdapter
from oms_gateway.service_layer.delivery import SPAN_ATTR_INBOX_ID
from oms_gateway.service_layer.intake import IntakeService
from oms_gateway.service_layer.ports import RateLimiterPort

SPAN_ATTR_MERCHANT = "oms.merchant"


class FormAccepted(BaseModel):
    status: Literal["accepted", "duplicate"]
    inbox_id: str
    submission_id: str


def _errors(**described: str) -> dict[int | str, dict[str, Any]]:
    return {
        int(status.removeprefix("s")): {"model": ErrorResponse, "description": text}
        for status, text in described.items()
    }


def wechat_echo_router(platforms: PlatformRegistry) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/webhooks/wechat",
        response_class=PlainTextResponse,
        summary="WeChat's server URL check: answers echostr when the query is signed",
        responses=_errors(
            s401="Missing or wrong signature, or stale timestamp.",
            s400="echostr missing or too long.",
            s503="OMS_PLATFORM_WECHAT_TOKEN is not set.",
        ),
    )
    async def wechat_echo(request: Request) -> PlainTextResponse:
        adapter = platforms.enabled(WECHAT)
        assert isinstance(adapter, WechatAdapter)
        return PlainTextResponse(adapter.echo(dict(request.query_params)))

    return router


@dataclass(frozen=True)
class FormEndpoint:
    tokens: web_form.FormTokens
    intake: IntakeService
    translator: web_form.FormAdapter
    rate_limiter: RateLimiterPort
    max_body_bytes: int
    clock: Clock

    async def __call__(self, merchant: str, request: Request) -> JSONResponse:
        span = trace.get_current_span()
        span.set_attribute(SPAN_ATTR_MERCHANT, merchant[:64])
        self.tokens.check(merchant, request.headers.get(web_form.TOKEN_HEADER, ""))
        decision = await self.rate_limiter.acquire(f"{web_form.NAME}:{merchant}")
        if not decision.allowed:
            raise RateLimited(
                f"merchant {merchant!r}'s form is over its rate limit; retry later",
                metadata={"retry_after_seconds": str(decision.retry_after_seconds)},
            )
        body = await read_limited_body(request, self.max_body_bytes)
        push = web_form.form_push(merchant, body, self.clock.now())
        result = await self.intake.receive(self.translator, push, traceparent=current_traceparent())
        span.set_attribute(SPAN_ATTR_INBOX_ID, result.inbox_id)
        answer = FormAccepted(
            status="duplicate" if result.duplicate else "accepted",
            inbox_id=result.inbox_id,
            submission_id=result.translation.event_id.partition(":")[2],
        )
        return JSONResponse(
            answer.model_dump(),
            status_code=200 if result.duplicate else 202,
            headers={"x-oms-inbox-id": result.inbox_id},
        )


def form_router(endpoint: FormEndpoint) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/forms/{merchant}/tickets",
        status_code=202,
        response_model=FormAccepted,
        responses={
            200: {"model": FormAccepted, "description": "Duplicate submission_id."},
            **_errors(
                s400="The body is not a valid TicketForm (the message names the field).",
                s401="Missing or wrong X-OMS-Form-Token for this merchant.",
                s413="Body larger than OMS_FORM_MAX_BODY_BYTES.",
                s429="Over the merchant's form rate limit; retry after Retry-After seconds.",
                s503="Inbox database unavailable; retry.",
            ),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": web_form.TicketForm.model_json_schema()}
                },
            }
        },
        summary="Receive one customer ticket from a merchant's web form",
    )
    async def receive_form(merchant: str, request: Request) -> JSONResponse:
        """Answered only after the submission is committed to the inbox (202), or found (200)."""
        return await endpoint(merchant, request)

    return router


FORMS_PREFIX = "/forms/"


class FormCors:
    """CORS for the web form only, so that a merchant's pages on their own origins
    (``OMS_FORM_ALLOWED_ORIGINS``) can post to it; every other route stays same-origin."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self._app = app
        self._cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST"],
            allow_headers=["content-type", web_form.TOKEN_HEADER],
            expose_headers=["x-oms-inbox-id", "retry-after"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(FORMS_PREFIX):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)
