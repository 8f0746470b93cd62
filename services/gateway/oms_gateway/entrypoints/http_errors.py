"""One JSON error shape for every failure, ours and FastAPI's own:
``{"error": {"status": 401, "reason": "INVALID_SIGNATURE", "message": "..."}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from omslib.errors import DomainError, ErrorKind
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID_ARGUMENT: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.PERMISSION_DENIED: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.ALREADY_EXISTS: 409,
    ErrorKind.FAILED_PRECONDITION: 409,
    ErrorKind.ABORTED: 409,
    ErrorKind.RESOURCE_EXHAUSTED: 429,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.DEADLINE_EXCEEDED: 504,
    ErrorKind.INTERNAL: 500,
}
STATUS_BY_REASON: dict[str, int] = {"PAYLOAD_TOO_LARGE": 413}

_REASON_BY_HTTP_STATUS = {
    404: ("NOT_FOUND", "no such endpoint; see /openapi.json for the routes"),
    405: ("METHOD_NOT_ALLOWED", "this endpoint does not accept that method; see /openapi.json"),
}


class ErrorDetail(BaseModel):
    status: int
    reason: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


def error_response(
    status: int, reason: str, message: str, *, extra: dict[str, Any] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"status": status, "reason": reason, "message": message}}
    body.update(extra or {})
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status in (429, 503) else None
    return JSONResponse(body, status_code=status, headers=headers)


def status_for(err: DomainError) -> int:
    return STATUS_BY_REASON.get(err.reason, STATUS_BY_KIND.get(err.kind, 500))


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    response = error_response(status_for(exc), exc.reason, exc.message)
    if exc.metadata.get("retry_after_seconds"):
        response.headers["Retry-After"] = exc.metadata["retry_after_seconds"]
    return response


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    reason, message = _REASON_BY_HTTP_STATUS.get(
        exc.status_code, ("HTTP_" + str(exc.status_code), str(exc.detail))
    )
    response = error_response(exc.status_code, reason, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    field = ".".join(str(part) for part in first.get("loc", ()))
    return error_response(422, "INVALID_REQUEST", f"{field}: {first.get('msg')}")


async def _client_disconnect(request: Request, _: Exception) -> JSONResponse:
    # The client left (or was dropped as too slow) mid-body: nothing to fix here, and
    # nobody to answer. One line, not a traceback at ERROR.
    client = request.client.host if request.client else None
    log.info(
        "client disconnected before the request body was complete",
        extra={"code": "CLIENT_DISCONNECTED", "client": client, "path": request.url.path},
    )
    return error_response(400, "CLIENT_DISCONNECTED", "the request body was not received")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "INTERNAL", "unexpected error; it has been logged, retry later")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnect)
    app.add_exception_handler(Exception, _unexpected)
