"""Operator use cases on the inbox: look at entries and their attempts, replay them.

A replay puts entries back in the delivery queue (state ``RECEIVED``, due now, a
fresh attempt budget); the normal worker delivers them through the same adapter
translation and the same ``request_id`` as the first time. Orders deduplicates on
that id, so replaying an entry that was already ``DELIVERED`` is safe: orders
answers ``DUPLICATE`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from omslib.clock import Clock
from omslib.db import UnitOfWork
from omslib.errors import FailedPrecondition, InvalidArgument, NotFound

from oms_gateway.adapters.inbox_queries import InboxFilter, InboxQueries
from oms_gateway.adapters.repository import InboxRepository
from oms_gateway.domain.inbox import DeliveryAttempt, InboxEntry, InboxState

MAX_PAGE_SIZE = 500


class EntryNotFound(NotFound):
    reason = "INBOX_ENTRY_NOT_FOUND"


class EntryBeingDelivered(FailedPrecondition):
    reason = "INBOX_ENTRY_BEING_DELIVERED"


class ReplayScopeMissing(InvalidArgument):
    reason = "REPLAY_SCOPE_MISSING"


@dataclass(frozen=True)
class EntryDetail:
    entry: InboxEntry
    attempts: list[DeliveryAttempt]


@dataclass(frozen=True)
class Page:
    entries: list[InboxEntry]
    next_page_token: str | None


class InboxAdmin:
    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], clock: Clock, *, wake: Callable[[], None]
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._wake = wake

    async def list(self, where: InboxFilter, *, page_size: int, page_token: str | None) -> Page:
        size = max(1, min(page_size, MAX_PAGE_SIZE))
        uow = self._uow_factory()
        async with uow:
            entries = await InboxQueries(uow.session).page(
                where, page_size=size + 1, after_id=page_token or None
            )
        more = len(entries) > size
        entries = entries[:size]
        return Page(entries, entries[-1].id if more else None)

    async def show(self, entry_id: str) -> EntryDetail:
        uow = self._uow_factory()
        async with uow:
            entry = await InboxRepository(uow.session).get(entry_id)
            if entry is None:
                raise EntryNotFound(f"no inbox entry {entry_id!r}; list them with oms inbox list")
            attempts = await InboxQueries(uow.session).attempts(entry_id)
        return EntryDetail(entry, attempts)

    async def replay_one(self, entry_id: str) -> int:
        uow = self._uow_factory()
        async with uow:
            entry = await InboxRepository(uow.session).get(entry_id)
            if entry is None:
                raise EntryNotFound(f"no inbox entry {entry_id!r}; list them with oms inbox list")
            count = await InboxQueries(uow.session).requeue(
                InboxFilter(), self._clock.now(), entry_id=entry_id
            )
            await uow.commit()
        if count == 0:
            raise EntryBeingDelivered(
                f"inbox entry {entry_id} is being delivered right now; look again in a moment"
            )
        self._wake()
        return count

    async def replay(self, where: InboxFilter) -> int:
        """Replay every entry matching ``where``; refuses an unbounded, unfiltered replay."""
        bounded = where.received_from is not None or where.received_to is not None
        if not bounded and list(where.states) != [InboxState.DEAD]:
            raise ReplayScopeMissing(
                "give a time range (received_from/received_to) or ask for the dead letters "
                "(states=[DEAD]); replaying the whole inbox at once is refused"
            )
        uow = self._uow_factory()
        async with uow:
            count = await InboxQueries(uow.session).requeue(where, self._clock.now())
            await uow.commit()
        if count:
            self._wake()
        return count
