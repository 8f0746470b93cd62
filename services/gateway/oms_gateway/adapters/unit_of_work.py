"""The gateway unit of work: omslib's outbox unit of work plus raising alerts."""

from __future__ import annotations

from omslib.outbox import STREAM_ALERTS, OutboxNotifier, OutboxUnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_gateway.adapters import orm
from oms_gateway.adapters.alert_events import alert_envelope
from oms_gateway.adapters.alerts_repository import AlertRepository
from oms_gateway.domain.alerts import Alert


class GatewayUnitOfWork(OutboxUnitOfWork):
    """Alerts are the only events the gateway writes; a commit that raised one wakes the
    relay (``OutboxUnitOfWork``)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], notifier: OutboxNotifier | None = None
    ) -> None:
        super().__init__(sessions, orm.outbox, notifier)

    async def raise_alert(self, alert: Alert) -> bool:
        """True if this call raised ``alert``; False if its episode was already raised.

        Raising it also writes its ``oms.events.v1.Alert`` event into the outbox, in the
        same transaction: the commit stores both or neither.
        """
        if not await AlertRepository(self.session).add_if_absent(alert):
            return False
        await self.add_event(stream=STREAM_ALERTS, envelope=alert_envelope(alert))
        return True
