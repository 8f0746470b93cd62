"""Operator HTTP endpoints under ``/admin``, behind a bearer token.

Unset ``OMS_GATEWAY_ADMIN_TOKEN`` disables them (404 ``ADMIN_DISABLED``); a missing
token is 401 ``ADMIN_TOKEN_REQUIRED``, a wrong one 401 ``ADMIN_TOKEN_WRONG``. They
translate HTTP to the operator use cases and back.
"""

from __future__ import annotations

import base64
import hmac
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from omslib.errors import DomainError, ErrorKind, NotFound
from omslib.telemetry import current_traceparent
from pydantic import AwareDatetime, BaseModel, Field

from oms_gateway.adapters.inbox_queries import InboxFilter
from oms_gateway.domain.inbox import DeliveryAttempt, InboxEntry, InboxState
from oms_gateway.entrypoints.http_errors import ErrorResponse
from oms_gateway.service_layer.replay import MAX_PAGE_SIZE, InboxAdmin
from oms_gateway.service_layer.request_import import RequestImporter

MAX_IMPORT_BATCH = 500
WRONG_TOKEN = "wrong token: the bearer token is not this gateway's OMS_GATEWAY_ADMIN_TOKEN"


class AdminDisabled(NotFound):
    reason = "ADMIN_DISABLED"


class AdminUnauthenticated(DomainError):
    kind = ErrorKind.UNAUTHENTICATED
    reason = "ADMIN_TOKEN_REQUIRED"


class AdminTokenWrong(AdminUnauthenticated):
    reason = "ADMIN_TOKEN_WRONG"


# Declared for the OpenAPI document (the admin endpoints' security scheme); the
# header itself is checked below (and first by admin_guard, before any body is read),
# so that each refusal can say what is wrong.
ADMIN_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="adminToken",
    description="`Authorization: Bearer <OMS_GATEWAY_ADMIN_TOKEN>`; `make run` keeps a "
    "development token in var/admin-token.",
)


class EntrySummary(BaseModel):
    id: str
    platform: str
    event_id: str
    state: InboxState
    received_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    order_id: str | None
    outcome: str | None


class AttemptView(BaseModel):
    attempted_at: datetime
    worker: str
    outcome: str
    error: str | None
    order_id: str | None


class EntryDetailView(EntrySummary):
    headers: dict[str, str]
    body: str | None = Field(description="The raw body as text when it is UTF-8")
    body_base64: str | None = Field(description="The raw body, base64, when it is not UTF-8")
    traceparent: str | None
    delivery_attempts: list[AttemptView]


class EntryPage(BaseModel):
    entries: list[EntrySummary]
    next_page_token: str | None


class ReplayRequest(BaseModel):
    states: list[InboxState] = Field(
        default_factory=list, description='e.g. ["DEAD"]; empty means DEAD and DELIVERED'
    )
    platform: str | None = None
    received_from: AwareDatetime | None = None
    received_to: AwareDatetime | None = None


class Replayed(BaseModel):
    replayed: int


class ImportRecord(BaseModel):
    method: str = "POST"
    path: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    body_base64: str | None = None
    time: str | None = None


class ImportBatch(BaseModel):
    records: list[ImportRecord] = Field(max_length=MAX_IMPORT_BATCH)


class ImportResult(BaseModel):
    status: str
    inbox_id: str | None = None
    reason: str | None = None
    message: str | None = None


class ImportReport(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    results: list[ImportResult]


def _summary(entry: InboxEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "platform": entry.platform,
        "event_id": entry.event_id,
        "state": entry.state,
        "received_at": entry.received_at,
        "attempts": entry.attempts,
        "next_attempt_at": entry.next_attempt_at,
        "last_error": entry.last_error,
        "order_id": entry.order_id,
        "outcome": entry.outcome,
    }


def _attempt(attempt: DeliveryAttempt) -> AttemptView:
    return AttemptView(
        attempted_at=attempt.attempted_at,
        worker=attempt.worker,
        outcome=attempt.outcome,
        error=attempt.error,
        order_id=attempt.order_id,
    )


def admin_router(token: str | None, admin: InboxAdmin, importer: RequestImporter) -> APIRouter:
    def authorised(
        request: Request,
        _scheme: Annotated[HTTPAuthorizationCredentials | None, Security(ADMIN_BEARER)],
    ) -> None:
        if not token:
            raise AdminDisabled(
                "the admin API is disabled on this gateway; "
                "set OMS_GATEWAY_ADMIN_TOKEN to enable it"
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise AdminUnauthenticated(
                "send Authorization: Bearer <OMS_GATEWAY_ADMIN_TOKEN> to use the admin API"
            )
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise AdminTokenWrong(WRONG_TOKEN)

    errors: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorResponse} for status in (400, 401, 404, 409, 422, 503)
    }
    router = APIRouter(
        prefix="/admin", tags=["admin"], dependencies=[Depends(authorised)], responses=errors
    )

    @router.get("/inbox", response_model=EntryPage, summary="List inbox entries, newest first")
    async def list_entries(
        state: Annotated[list[InboxState] | None, Query()] = None,
        platform: str | None = None,
        received_from: AwareDatetime | None = None,
        received_to: AwareDatetime | None = None,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
        page_token: str | None = None,
    ) -> dict[str, Any]:
        where = InboxFilter(tuple(state or ()), platform, received_from, received_to)
        page = await admin.list(where, page_size=page_size, page_token=page_token)
        return {
            "entries": [_summary(entry) for entry in page.entries],
            "next_page_token": page.next_page_token,
        }

    @router.get("/inbox/import", include_in_schema=False)
    async def import_is_post_only() -> None:
        # Declared before /inbox/{entry_id} so "import" is never read as an entry id.
        raise HTTPException(405, "use POST /admin/inbox/import", headers={"Allow": "POST"})

    @router.get("/inbox/{entry_id}", response_model=EntryDetailView, summary="Show one entry")
    async def show_entry(entry_id: str) -> dict[str, Any]:
        detail = await admin.show(entry_id)
        entry = detail.entry
        try:
            text, raw = entry.body.decode(), None
        except UnicodeDecodeError:
            text, raw = None, base64.b64encode(entry.body).decode()
        return {
            **_summary(entry),
            "headers": entry.headers,
            "body": text,
            "body_base64": raw,
            "traceparent": entry.traceparent,
            "delivery_attempts": [_attempt(a) for a in detail.attempts],
        }

    @router.post("/inbox/{entry_id}/replay", response_model=Replayed, summary="Replay one entry")
    async def replay_entry(entry_id: str) -> Replayed:
        return Replayed(replayed=await admin.replay_one(entry_id))

    @router.post(
        "/inbox/replay", response_model=Replayed, summary="Replay a time range or the dead letters"
    )
    async def replay_many(request: ReplayRequest) -> Replayed:
        states = tuple(request.states) or (InboxState.DEAD, InboxState.DELIVERED)
        where = InboxFilter(states, request.platform, request.received_from, request.received_to)
        return Replayed(replayed=await admin.replay(where))

    @router.post(
        "/inbox/import",
        response_model=ImportReport,
        summary="Verify and store raw requests (e.g. cut from access logs)",
    )
    async def import_requests(batch: ImportBatch) -> ImportReport:
        results: list[ImportResult] = []
        for record in batch.records:
            outcome = await importer.import_one(
                record.model_dump(exclude_none=True), current_traceparent()
            )
            results.append(ImportResult(**outcome.__dict__))
        counts = {status: 0 for status in ("accepted", "duplicate", "rejected")}
        for result in results:
            counts[result.status] += 1
        return ImportReport(**counts, results=results)

    return router
