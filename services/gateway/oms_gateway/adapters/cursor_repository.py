"""Durable poller cursors, one row per channel, taken with a lease so that only one
replica polls a channel at a time."""

from __future__ import annotations

from datetime import datetime

from omslib.db.inserts import insert_if_absent
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_gateway.adapters.orm import poll_cursor_lease, poll_cursors


class CursorRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(
        self, channel: str, owner: str, now: datetime, lease_until: datetime
    ) -> tuple[bool, str | None]:
        """Take the channel's lease if free, expired or already ours (renewing it);
        returns (got it, current cursor)."""
        await insert_if_absent(
            self._session,
            poll_cursors,
            {"channel": channel, "cursor": None, "updated_at": now},
            on=("channel",),
        )
        result = await self._session.execute(
            poll_cursor_lease.claim(
                poll_cursors.c.channel == channel,
                owner=owner,
                now=now,
                until=lease_until,
                again=True,
            )
        )
        if getattr(result, "rowcount", 0) != 1:
            return False, None
        cursor = await self._session.scalar(
            select(poll_cursors.c.cursor).where(poll_cursors.c.channel == channel)
        )
        return True, cursor

    async def get(self, channel: str) -> str | None:
        return await self._session.scalar(
            select(poll_cursors.c.cursor).where(poll_cursors.c.channel == channel)
        )

    async def advance(self, channel: str, owner: str, cursor: str | None, now: datetime) -> bool:
        result = await self._session.execute(
            update(poll_cursors)
            .where(poll_cursors.c.channel == channel, poll_cursor_lease.held_by(owner))
            .values(cursor=cursor, updated_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def release(self, channel: str, owner: str) -> None:
        await self._session.execute(
            poll_cursor_lease.release(poll_cursors.c.channel == channel, owner=owner)
        )
