"""Persistence of inbox entries and rejected pushes (plain SQLAlchemy Core).

Every delivery-side write is conditional on the caller still holding the lease
(``lease_owner``), so a worker whose lease expired cannot overwrite the result
of the worker that took the entry over.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from omslib.db.inserts import dialect_insert, insert_if_absent
from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from oms_gateway.adapters.orm import delivery_attempts, inbox, inbox_lease, rejected_pushes
from oms_gateway.domain.inbox import DeliveryAttempt, InboxEntry, InboxState, RejectedPush

_PENDING = (InboxState.RECEIVED.value, InboxState.DELIVERING.value)


def row_to_entry(row: Any) -> InboxEntry:
    return InboxEntry(
        id=row.id,
        platform=row.platform,
        event_id=row.event_id,
        received_at=row.received_at,
        body=bytes(row.body),
        headers=dict(row.headers),
        traceparent=row.traceparent,
        next_attempt_at=row.next_attempt_at,
        state=InboxState(row.state),
        attempts=row.attempts,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
        last_error=row.last_error,
        order_id=row.order_id,
        outcome=row.outcome,
    )


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_absent(self, entry: InboxEntry) -> str | None:
        """Insert ``entry``; if (platform, event_id) exists, return the existing id instead."""
        if await insert_if_absent(
            self._session, inbox, _entry_values(entry), on=("platform", "event_id")
        ):
            return None
        existing = await self._session.scalar(
            select(inbox.c.id).where(
                inbox.c.platform == entry.platform, inbox.c.event_id == entry.event_id
            )
        )
        assert existing is not None, "conflicting row must exist after ON CONFLICT DO NOTHING"
        return str(existing)

    async def add_many_if_absent(self, entries: Sequence[InboxEntry]) -> list[str | None]:
        """Like :meth:`add_if_absent` for many entries, in one multi-row statement.

        Per entry, in order: None if inserted now, else the id already stored under its
        (platform, event_id), including an earlier entry of the same call.
        """
        first: dict[tuple[str, str], InboxEntry] = {}
        for entry in entries:
            first.setdefault((entry.platform, entry.event_id), entry)
        # One statement compiled once (cached); "insertmanyvalues" sends the executemany
        # as multi-row INSERTs (an explicit .values([...]) would be compiled per batch).
        statement = (
            dialect_insert(self._session, inbox)
            .on_conflict_do_nothing(index_elements=[inbox.c.platform, inbox.c.event_id])
            .returning(inbox.c.id)
        )
        result = await self._session.execute(
            statement, [_entry_values(entry) for entry in first.values()]
        )
        inserted = set(result.scalars().all())
        known = {key: entry.id for key, entry in first.items() if entry.id in inserted}
        missing: dict[str, list[str]] = {}
        for platform, event_id in first.keys() - known.keys():
            missing.setdefault(platform, []).append(event_id)
        for platform, event_ids in missing.items():
            rows = await self._session.execute(
                select(inbox.c.event_id, inbox.c.id).where(
                    inbox.c.platform == platform, inbox.c.event_id.in_(event_ids)
                )
            )
            known.update(((platform, row.event_id), str(row.id)) for row in rows)
        found: list[str | None] = []
        for entry in entries:
            existing = known[(entry.platform, entry.event_id)]
            found.append(None if existing == entry.id else existing)
        return found

    async def get(self, entry_id: str) -> InboxEntry | None:
        row = (await self._session.execute(select(inbox).where(inbox.c.id == entry_id))).first()
        return None if row is None else row_to_entry(row)

    async def due_ids(self, now: datetime, limit: int) -> list[str]:
        """Entries waiting for an attempt whose lease (if any) has run out, oldest due first."""
        rows = await self._session.scalars(
            select(inbox.c.id).where(_claimable(now)).order_by(inbox.c.next_attempt_at).limit(limit)
        )
        return list(rows)

    async def claim(self, entry_id: str, owner: str, now: datetime, lease_until: datetime) -> bool:
        """Take the lease if nobody holds a live one; True if we got it."""
        result = await self._session.execute(
            inbox_lease.claim(
                inbox.c.id == entry_id,
                *_waiting(now),
                owner=owner,
                now=now,
                until=lease_until,
                values={"state": InboxState.DELIVERING.value, "updated_at": now},
            )
        )
        return _rowcount(result) == 1

    async def mark_delivered(
        self, entry_id: str, owner: str, now: datetime, *, order_id: str, outcome: str
    ) -> bool:
        return await self._finish(
            entry_id,
            owner,
            now,
            state=InboxState.DELIVERED,
            attempts=inbox.c.attempts + 1,
            order_id=order_id,
            outcome=outcome,
            last_error=None,
        )

    async def schedule_retry(
        self, entry_id: str, owner: str, now: datetime, *, next_attempt_at: datetime, error: str
    ) -> bool:
        return await self._finish(
            entry_id,
            owner,
            now,
            state=InboxState.RECEIVED,
            attempts=inbox.c.attempts + 1,
            next_attempt_at=next_attempt_at,
            last_error=error,
        )

    async def mark_dead(self, entry_id: str, owner: str, now: datetime, *, error: str) -> bool:
        return await self._finish(
            entry_id,
            owner,
            now,
            state=InboxState.DEAD,
            attempts=inbox.c.attempts + 1,
            last_error=error,
        )

    async def release(self, entry_id: str, owner: str, now: datetime) -> bool:
        """Give the lease back without counting an attempt (graceful shutdown)."""
        return await self._finish(
            entry_id, owner, now, state=InboxState.RECEIVED, next_attempt_at=now
        )

    async def release_all(self, owner: str, now: datetime) -> int:
        """Give back every lease ``owner`` holds, without counting an attempt; how many."""
        result = await self._session.execute(
            inbox_lease.release(
                inbox.c.state == InboxState.DELIVERING.value,
                owner=owner,
                values={
                    "state": InboxState.RECEIVED.value,
                    "next_attempt_at": now,
                    "updated_at": now,
                },
            )
        )
        return _rowcount(result)

    async def make_due(self, entry_ids: Sequence[str], now: datetime) -> None:
        """Bring forward the next attempt of those entries still waiting for one."""
        for start in range(0, len(entry_ids), 500):  # bounded IN lists
            await self._session.execute(
                update(inbox)
                .where(
                    inbox.c.id.in_(entry_ids[start : start + 500]),
                    inbox.c.state == InboxState.RECEIVED.value,
                    inbox.c.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
            )

    async def add_attempt(self, attempt: DeliveryAttempt) -> None:
        await self._session.execute(
            delivery_attempts.insert().values(
                id=attempt.id,
                inbox_id=attempt.inbox_id,
                attempted_at=attempt.attempted_at,
                worker=attempt.worker,
                outcome=attempt.outcome,
                error=attempt.error,
                order_id=attempt.order_id,
            )
        )

    async def _finish(
        self, entry_id: str, owner: str, now: datetime, *, state: InboxState, **values: Any
    ) -> bool:
        result = await self._session.execute(
            inbox_lease.release(
                inbox.c.id == entry_id,
                inbox.c.state == InboxState.DELIVERING.value,
                owner=owner,
                values={"state": state.value, "updated_at": now, **values},
            )
        )
        return _rowcount(result) == 1


class RejectedPushRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, push: RejectedPush) -> None:
        await self._session.execute(
            rejected_pushes.insert().values(
                id=push.id,
                platform=push.platform,
                reason=push.reason,
                message=push.message,
                source=push.source,
                body_bytes=push.body_bytes,
                body_sha256=push.body_sha256,
                header_names=list(push.header_names),
                received_at=push.received_at,
            )
        )

    async def delete_older_than(self, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` of the oldest rows received before ``cutoff``; how many."""
        ids = list(
            await self._session.scalars(
                select(rejected_pushes.c.id)
                .where(rejected_pushes.c.received_at < cutoff)
                .order_by(rejected_pushes.c.received_at)
                .limit(limit)
            )
        )
        if ids:
            await self._session.execute(
                delete(rejected_pushes).where(rejected_pushes.c.id.in_(ids))
            )
        return len(ids)


def _entry_values(entry: InboxEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "platform": entry.platform,
        "event_id": entry.event_id,
        "received_at": entry.received_at,
        "body": entry.body,
        "headers": dict(entry.headers),
        "traceparent": entry.traceparent,
        "state": entry.state.value,
        "attempts": entry.attempts,
        "next_attempt_at": entry.next_attempt_at,
        "updated_at": entry.received_at,
    }


def _waiting(now: datetime) -> tuple[Any, ...]:
    """Waiting for an attempt due by ``now`` (claimable once nobody holds its lease)."""
    return (inbox.c.state.in_(_PENDING), inbox.c.next_attempt_at <= now)


def _claimable(now: datetime) -> Any:
    return and_(*_waiting(now), inbox_lease.expired(now))


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
