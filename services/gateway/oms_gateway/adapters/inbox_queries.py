"""Operator queries over the inbox: filtered pages, attempt history, and re-queueing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from oms_gateway.adapters.orm import delivery_attempts, inbox, inbox_lease
from oms_gateway.adapters.repository import row_to_entry
from oms_gateway.domain.inbox import DeliveryAttempt, InboxEntry, InboxState


@dataclass(frozen=True)
class InboxFilter:
    states: Sequence[InboxState] = ()
    platform: str | None = None
    received_from: datetime | None = None  # inclusive
    received_to: datetime | None = None  # exclusive

    def clauses(self) -> list[Any]:
        clauses: list[Any] = []
        if self.states:
            clauses.append(inbox.c.state.in_([state.value for state in self.states]))
        if self.platform:
            clauses.append(inbox.c.platform == self.platform)
        if self.received_from is not None:
            clauses.append(inbox.c.received_at >= self.received_from)
        if self.received_to is not None:
            clauses.append(inbox.c.received_at < self.received_to)
        return clauses


class InboxQueries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def page(
        self, where: InboxFilter, *, page_size: int, after_id: str | None
    ) -> list[InboxEntry]:
        """Newest first; ``after_id`` is the last id of the previous page (ids sort by time)."""
        clauses = where.clauses()
        if after_id:
            clauses.append(inbox.c.id < after_id)
        statement = select(inbox).where(and_(True, *clauses)).order_by(inbox.c.id.desc())
        rows = await self._session.execute(statement.limit(page_size))
        return [row_to_entry(row) for row in rows]

    async def attempts(self, inbox_id: str) -> list[DeliveryAttempt]:
        rows = await self._session.execute(
            select(delivery_attempts)
            .where(delivery_attempts.c.inbox_id == inbox_id)
            .order_by(delivery_attempts.c.attempted_at, delivery_attempts.c.id)
        )
        return [
            DeliveryAttempt(
                id=row.id,
                inbox_id=row.inbox_id,
                attempted_at=row.attempted_at,
                worker=row.worker,
                outcome=row.outcome,
                error=row.error,
                order_id=row.order_id,
            )
            for row in rows
        ]

    async def requeue(
        self, where: InboxFilter, now: datetime, *, entry_id: str | None = None
    ) -> int:
        """Put finished (or waiting) entries back in line for delivery now, with a fresh
        attempt budget; entries leased by a worker right now are left alone."""
        clauses = [*where.clauses(), inbox.c.state != InboxState.DELIVERING.value]
        if entry_id is not None:
            clauses.append(inbox.c.id == entry_id)
        result = await self._session.execute(
            update(inbox)
            .where(*clauses)
            .values(
                state=InboxState.RECEIVED.value,
                attempts=0,
                next_attempt_at=now,
                updated_at=now,
                **inbox_lease.vacated(),
            )
        )
        assert isinstance(result, CursorResult)
        return int(result.rowcount)
