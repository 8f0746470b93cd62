"""The aftersales unit of work: omslib's session handling plus this service's repositories."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from google.protobuf.message import Message
from omslib.outbox import OutboxNotifier, OutboxUnitOfWork, build_envelope
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_aftersales.adapters import orm
from oms_aftersales.adapters.customers_repository import CustomerRepository
from oms_aftersales.adapters.repository import TicketRepository

SOURCE = "aftersales"


class AftersalesUnitOfWork(OutboxUnitOfWork):
    """``async with uow:`` gives ``uow.tickets`` and ``uow.customers``; ``emit`` writes an
    event into the outbox in the same transaction; ``commit()`` then wakes the relay
    (``OutboxUnitOfWork``)."""

    tickets: TicketRepository
    customers: CustomerRepository

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], notifier: OutboxNotifier | None = None
    ) -> None:
        super().__init__(sessions, orm.outbox, notifier)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.tickets = TicketRepository(self.session)
        self.customers = CustomerRepository(self.session)
        return self

    async def emit(
        self,
        stream: str,
        aggregate_type: str,
        aggregate_id: str,
        payload: Message,
        *,
        occur_time: datetime,
    ) -> None:
        envelope = build_envelope(
            payload,
            source=SOURCE,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            occur_time=occur_time,
        )
        await self.add_event(stream=stream, envelope=envelope)
