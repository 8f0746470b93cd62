"""Persistence of tickets, their thread and audit, request ids and timers."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from omslib.db.inserts import dialect_insert
from omslib.db.request_log import RequestLog
from omslib.db.types import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from oms_aftersales.adapters import orm
from oms_aftersales.adapters.ticket_rows import ticket_from_row, ticket_to_row
from oms_aftersales.domain.errors import InvalidPageToken
from oms_aftersales.domain.ticket import Change, Ticket
from oms_aftersales.domain.timers import PlannedTimer

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
TICKET = "ticket"
# Idempotency of intake and mutations: per (scope, request id), the ticket and entry.
_REQUESTS = RequestLog(orm.requests, scope="scope")


@dataclass(frozen=True)
class ThreadRow:
    entry_id: str
    ticket_id: str
    kind: str
    channel: str
    text: str
    author: str
    request_id: str
    mood: str
    created_at: datetime


@dataclass(frozen=True)
class AuditRow:
    action: str
    actor: str
    before: str
    after: str
    note: str
    request_id: str
    trace_id: str
    created_at: datetime


@dataclass(frozen=True)
class TicketQuery:
    states: Sequence[str]
    department: str = ""
    assignee: str = ""
    issue_code: str = ""
    escalation: int = 0
    order_id: str = ""
    newest_first: bool = False


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
        query = sa.select(orm.tickets).where(orm.tickets.c.ticket_id == ticket_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return ticket_from_row(row) if row else None

    async def add(self, ticket: Ticket) -> None:
        await self._s.execute(sa.insert(orm.tickets).values(ticket_to_row(ticket)))

    async def save(self, ticket: Ticket) -> None:
        row = ticket_to_row(ticket)
        await self._s.execute(
            sa.update(orm.tickets).where(orm.tickets.c.ticket_id == ticket.ticket_id).values(row)
        )

    async def find_open(
        self, customer_key: str, order_id: str | None, platform_case_id: str
    ) -> Ticket | None:
        """The ticket a later message joins: same platform case, else the customer's
        newest ticket on the same order (or with no order) that is not closed."""
        c = orm.tickets.c
        if platform_case_id:
            where = c.platform_case_id == platform_case_id
        else:
            where = sa.and_(
                c.customer_key == customer_key,
                c.order_id == order_id if order_id else c.order_id.is_(None),
                c.state != "CLOSED",
                c.platform_case_id == "",
            )
        query = (
            sa.select(orm.tickets)
            .where(where)
            .order_by(c.opened_at.desc())
            .limit(1)
            .with_for_update()
        )
        row = (await self._s.execute(query)).first()
        return ticket_from_row(row) if row else None

    async def page(self, q: TicketQuery, page_size: int, token: str) -> tuple[list[Ticket], str]:
        c = orm.tickets.c
        sort_due = sa.func.coalesce(c.nearest_due, sa.literal(FAR_FUTURE, UtcDateTime))
        query = sa.select(orm.tickets).where(c.state.in_(list(q.states)))
        for column, value in (
            (c.department, q.department),
            (c.assignee, q.assignee),
            (c.issue_code, q.issue_code),
            (c.order_id, q.order_id),
        ):
            if value:
                query = query.where(column == value)
        if q.escalation:
            query = query.where(c.escalation == q.escalation)
        after = _decode_token(token) if token else None
        if q.newest_first:
            if after:
                at = datetime.fromisoformat(after[0])
                query = query.where(
                    sa.or_(c.opened_at < at, sa.and_(c.opened_at == at, c.ticket_id < after[1]))
                )
            query = query.order_by(c.opened_at.desc(), c.ticket_id.desc())
        else:
            if after:
                due = datetime.fromisoformat(after[0])
                query = query.where(
                    sa.or_(sort_due > due, sa.and_(sort_due == due, c.ticket_id > after[1]))
                )
            query = query.order_by(sort_due, c.ticket_id)
        rows = (await self._s.execute(query.limit(page_size + 1))).all()
        found = [ticket_from_row(r) for r in rows[:page_size]]
        next_token = ""
        if len(rows) > page_size and found:
            last = found[-1]
            key = last.opened_at if q.newest_first else (last.deadlines.nearest() or FAR_FUTURE)
            next_token = _encode_token(key.isoformat(), last.ticket_id)
        return found, next_token

    async def active_ids(self, states: Sequence[str], after: str, limit: int) -> list[str]:
        """Ids of tickets in ``states``, in id order after ``after`` (for batch jobs)."""
        c = orm.tickets.c
        rows = await self._s.execute(
            sa.select(c.ticket_id)
            .where(c.state.in_(list(states)), c.ticket_id > after)
            .order_by(c.ticket_id)
            .limit(limit)
        )
        return [r.ticket_id for r in rows]

    # --- thread and audit -----------------------------------------------------

    async def add_message(self, entry: ThreadRow, customer_key: str) -> None:
        await self._s.execute(
            sa.insert(orm.ticket_messages).values(**entry.__dict__, customer_key=customer_key)
        )

    async def thread(self, ticket_id: str) -> list[ThreadRow]:
        c = orm.ticket_messages.c
        rows = await self._s.execute(
            sa.select(orm.ticket_messages)
            .where(c.ticket_id == ticket_id)
            .order_by(c.created_at, c.entry_id)
            .limit(1000)
        )
        return [
            ThreadRow(
                r.entry_id,
                r.ticket_id,
                r.kind,
                r.channel,
                r.text,
                r.author,
                r.request_id,
                r.mood,
                r.created_at,
            )
            for r in rows
        ]

    async def audit(self, ticket_id: str, change: Change, request_id: str, trace_id: str) -> None:
        await self._s.execute(
            sa.insert(orm.ticket_audit).values(
                ticket_id=ticket_id,
                action=change.action,
                actor=change.actor[:64],
                before=change.before,
                after=change.after,
                note=change.note,
                request_id=request_id[:128],
                trace_id=trace_id,
                created_at=change.at,
            )
        )

    async def audit_trail(self, ticket_id: str) -> list[AuditRow]:
        c = orm.ticket_audit.c
        rows = await self._s.execute(
            sa.select(orm.ticket_audit).where(c.ticket_id == ticket_id).order_by(c.id).limit(1000)
        )
        return [
            AuditRow(
                r.action, r.actor, r.before, r.after, r.note, r.request_id, r.trace_id, r.created_at
            )
            for r in rows
        ]

    # --- idempotency --------------------------------------------------------------

    async def claim_request(
        self, scope: str, request_id: str, ticket_id: str, entry_id: str, at: datetime
    ) -> bool:
        """Record the request id; False when it was recorded before (a duplicate)."""
        answer = {"ticket_id": ticket_id, "entry_id": entry_id, "created_at": at}
        return await _REQUESTS.record(self._s, request_id, answer, scope=scope)

    async def recorded_request(self, scope: str, request_id: str) -> tuple[str, str] | None:
        row = await _REQUESTS.recorded(self._s, request_id, scope=scope)
        return (row["ticket_id"], row["entry_id"]) if row else None

    # --- timers ---------------------------------------------------------------------

    async def replace_timers(self, ticket_id: str, planned: Sequence[PlannedTimer]) -> None:
        """Make the ticket's unfired timers exactly ``planned``; fired ones stay as history
        (and a planned key already fired is not planned again)."""
        c = orm.timers.c
        mine = sa.and_(c.subject_type == TICKET, c.subject_id == ticket_id)
        keys = [p.key for p in planned]
        await self._s.execute(
            sa.delete(orm.timers).where(mine, c.fired_at.is_(None), c.key.not_in(keys))
        )
        for p in planned:
            values: dict[str, Any] = {
                "kind": p.kind,
                "level": int(p.level),
                "deadline": p.deadline,
                "deadline_due_at": p.deadline_due_at,
                "due_at": p.due_at,
            }
            stmt = dialect_insert(self._s, orm.timers).values(
                subject_type=TICKET, subject_id=ticket_id, key=p.key, **values
            )
            # A moved escalation (same key) takes its new due time unless it already fired.
            stmt = stmt.on_conflict_do_update(
                index_elements=[c.subject_type, c.subject_id, c.key],
                set_=values,
                where=orm.timers.c.fired_at.is_(None),
            )
            await self._s.execute(stmt)


def _encode_token(key: str, ticket_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([key, ticket_id]).encode()).decode()


def _decode_token(token: str) -> tuple[str, str]:
    try:
        key, ticket_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        datetime.fromisoformat(key)
        return str(key), str(ticket_id)
    except (ValueError, TypeError):
        raise InvalidPageToken("page_token is not one this service gave out") from None
