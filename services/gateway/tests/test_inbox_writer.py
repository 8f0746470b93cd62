"""Group commit of inbox entries: concurrent pushes share a transaction, each caller
learns its own result, and one entry the database refuses does not fail the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from oms_gateway.adapters.orm import inbox
from oms_gateway.bootstrap import MIGRATIONS
from oms_gateway.domain.inbox import InboxEntry
from oms_gateway.service_layer.inbox_writer import InboxWriter
from omslib.db import UnitOfWork, create_engine, session_factory, upgrade_schema
from omslib.ids import new_id
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

NOW = datetime(2025, 7, 1, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade_schema(engine, MIGRATIONS)
    yield engine
    await engine.dispose()


class CountingUow:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)
        self.opened = 0

    def __call__(self) -> UnitOfWork:
        self.opened += 1
        return UnitOfWork(self._sessions)


def entry(event_id: str) -> InboxEntry:
    return InboxEntry(new_id(), "shop", event_id, NOW, b"{}", {}, None, NOW)


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(inbox)) or 0)


async def test_concurrent_pushes_share_one_transaction_and_dedupe(engine: AsyncEngine) -> None:
    uows = CountingUow(engine)
    writer = InboxWriter(uows)
    first = entry("e1")
    results = await asyncio.gather(
        writer.store([first]),
        writer.store([entry("e2")]),
        writer.store([entry("e1")]),  # the same event in the same batch
    )
    assert results == [[None], [None], [first.id]]
    assert uows.opened == 1
    assert await count(engine) == 2


async def test_an_entry_the_database_refuses_fails_alone(engine: AsyncEngine) -> None:
    writer = InboxWriter(CountingUow(engine))
    refused = InboxEntry(new_id(), "shop", "bad", NOW, None, {}, None, NOW)  # type: ignore[arg-type]
    results = await asyncio.gather(
        writer.store([entry("ok-1")]),
        writer.store([refused]),  # body is NOT NULL
        writer.store([entry("ok-2")]),
        return_exceptions=True,
    )
    assert results[0] == [None] and results[2] == [None]
    assert isinstance(results[1], Exception)
    assert await count(engine) == 2


async def test_entries_stored_by_an_earlier_batch_come_back_with_their_first_id(
    engine: AsyncEngine,
) -> None:
    writer = InboxWriter(CountingUow(engine))
    first = entry("seen")
    assert await writer.store([first]) == [None]
    results = await asyncio.gather(
        writer.store([entry("seen")]),
        writer.store([entry("new"), entry("seen")]),  # one push carrying two messages
    )
    assert results == [[first.id], [None, first.id]]
    assert await count(engine) == 2
