"""Persistence of alerts (inserted once per episode) and the feed activity they watch.

An alert's event goes into the outbox through ``GatewayUnitOfWork.raise_alert``."""

from __future__ import annotations

from datetime import datetime

from omslib.db.inserts import insert_if_absent
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_gateway.adapters.orm import alerts, inbox
from oms_gateway.domain.alerts import Alert


class AlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def last_received_at(self, platform: str) -> datetime | None:
        """Time of the platform's newest inbox entry (index ix_inbox_platform_received)."""
        return await self._session.scalar(
            select(func.max(inbox.c.received_at)).where(inbox.c.platform == platform)
        )

    async def first_received_at(self, platform: str) -> datetime | None:
        """Time of the platform's oldest inbox entry (same index)."""
        return await self._session.scalar(
            select(func.min(inbox.c.received_at)).where(inbox.c.platform == platform)
        )

    async def count_received(
        self, platform: str, start: datetime, end: datetime, *, at_most: int
    ) -> int:
        """Entries received in [start, end), counted up to ``at_most`` (a bounded scan)."""
        rows = (
            select(inbox.c.id)
            .where(
                inbox.c.platform == platform,
                inbox.c.received_at >= start,
                inbox.c.received_at < end,
            )
            .limit(at_most)
            .subquery()
        )
        return int(await self._session.scalar(select(func.count()).select_from(rows)) or 0)

    async def add_if_absent(self, alert: Alert) -> bool:
        """True if this call stored the alert; False if its episode was already stored."""
        return await insert_if_absent(
            self._session,
            alerts,
            {
                "id": alert.id,
                "code": alert.code,
                "subject": alert.subject,
                "episode": alert.episode,
                "message": alert.message,
                "details": alert.details,
                "raised_at": alert.raised_at,
            },
            on=("code", "subject", "episode"),
        )

    async def mark_webhook_delivered(self, alert_id: str, now: datetime) -> None:
        await self._session.execute(
            update(alerts).where(alerts.c.id == alert_id).values(webhook_delivered_at=now)
        )
