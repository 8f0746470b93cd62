"""POST /webhooks/{platform}: one platform push, from the raw request to its answer.

Called by the FastAPI route (which documents it in the OpenAPI description) and by
the gateway's ASGI front (``entrypoints.asgi``), which serves pushes without the
framework's routing; both get the same behaviour from this one handler.
"""

from __future__ import annotations

from dataclasses import dataclass

from omslib.telemetry import SPAN_ATTR_PLATFORM, current_traceparent
from opentelemetry import trace
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from oms_gateway.domain.errors import PayloadTooLarge
from oms_gateway.platforms.base import acknowledgement
from oms_gateway.platforms.common import http_push
from oms_gateway.platforms.registry import PlatformRegistry
from oms_gateway.service_layer.delivery import SPAN_ATTR_INBOX_ID, SPAN_ATTR_PLATFORM_ORDER_ID
from oms_gateway.service_layer.intake import IntakeService
from oms_gateway.service_layer.ports import RateLimiterPort
from oms_gateway.service_layer.push_gate import PushGate

ROUTE = "/webhooks/{platform}"
PREFIX = "/webhooks/"


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


@dataclass(frozen=True)
class PushEndpoint:
    platforms: PlatformRegistry
    intake: IntakeService
    max_body_bytes: int
    rate_limiter: RateLimiterPort | None = None
    #: Signature failures per source address (``service_layer.push_gate``).
    failure_limiter: RateLimiterPort | None = None

    async def __call__(self, platform: str, request: Request) -> Response:
        """Answered only after the push is committed to the inbox (202), or found there (200).

        Refusals raise the domain's errors; the caller turns them into the JSON error
        body with the gateway's exception handlers (``http_errors``).
        """
        span = trace.get_current_span()
        span.set_attribute(SPAN_ATTR_PLATFORM, platform)
        adapter = self.platforms.enabled(platform)
        body = await read_limited_body(request, self.max_body_bytes)
        result = await self.intake.receive(
            adapter,
            # The raw query string as sent (what ``request.url.query`` gives, without
            # building and parsing a URL per push).
            http_push(platform, dict(request.headers.items()), _query_string(request), body),
            traceparent=current_traceparent(),
            source=request.client.host if request.client else None,
            # The platform's budget is spent only by pushes whose signature holds.
            gate=PushGate(self.rate_limiter, self.failure_limiter),
        )
        span.set_attribute(SPAN_ATTR_INBOX_ID, result.inbox_id)
        for snapshot in result.translation.snapshots:
            span.set_attribute(SPAN_ATTR_PLATFORM_ORDER_ID, snapshot.platform_order_id)
        text = getattr(adapter, "acknowledge_text", None)
        if text is not None:  # a platform that wants plain text back (WeChat: "success")
            return PlainTextResponse(text, headers={"x-oms-inbox-id": result.inbox_id})
        status_code, answer = acknowledgement(
            adapter, inbox_id=result.inbox_id, duplicate=result.duplicate
        )
        return JSONResponse(
            answer, status_code=status_code, headers={"x-oms-inbox-id": result.inbox_id}
        )


def _query_string(request: Request) -> str:
    raw: bytes = request.scope.get("query_string", b"")
    return raw.decode("latin-1")
