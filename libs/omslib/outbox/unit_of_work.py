"""A unit of work that writes events into the outbox and wakes the relay after its commit.

The one way a service wakes its relay: write events through ``uow.add_event``;
``commit()`` then calls the relay's ``OutboxNotifier`` if the transaction wrote
any. Without a notifier (tests, tools) the events still go out, at the relay's
next sweep.
"""

from __future__ import annotations

from typing import Self

from google.protobuf.message import Message
from oms.events.v1.envelope_pb2 import EventEnvelope
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omslib.clock import Clock
from omslib.db.uow import UnitOfWork
from omslib.outbox.tables import OutboxTables
from omslib.outbox.writer import OutboxNotifier, add_event


class OutboxUnitOfWork(UnitOfWork):
    """``UnitOfWork`` plus ``add_event``; a commit that carried events notifies the relay."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: OutboxTables,
        notifier: OutboxNotifier | None = None,
    ) -> None:
        super().__init__(sessions)
        self._outbox = outbox
        self._notifier = notifier
        self._wrote_events = False

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self._wrote_events = False
        return self

    async def add_event(
        self,
        *,
        stream: str,
        envelope: EventEnvelope | None = None,
        payload: Message | None = None,
        source: str = "",
        aggregate_type: str = "",
        aggregate_id: str = "",
        clock: Clock | None = None,
    ) -> EventEnvelope:
        """``omslib.outbox.add_event`` in this unit of work's transaction."""
        written = await add_event(
            self.session,
            self._outbox,
            stream=stream,
            envelope=envelope,
            payload=payload,
            source=source,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            clock=clock,
        )
        self._wrote_events = True
        return written

    async def commit(self) -> None:
        await super().commit()
        wrote, self._wrote_events = self._wrote_events, False
        if wrote and self._notifier is not None:
            self._notifier.notify()

    async def rollback(self) -> None:
        await super().rollback()
        self._wrote_events = False  # the events went with the transaction
