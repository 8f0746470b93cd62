"""omslib.db.request_log: a request id is recorded once; a repeat reads the first answer."""

from collections.abc import AsyncIterator

import pytest
from omslib.db import create_engine, session_factory
from omslib.db.request_log import RequestLog
from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

metadata = MetaData()
plain = Table(
    "plain_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("order_id", String(26), nullable=False),
    Column("fingerprint", String(64), nullable=False),
)
scoped = Table(
    "scoped_requests",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("request_id", String(64), primary_key=True),
    Column("ticket_id", String(26), nullable=False),
)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def test_the_first_answer_recorded_for_a_request_id_is_the_one_kept(sessions) -> None:  # type: ignore[no-untyped-def]
    log = RequestLog(plain)
    async with sessions() as session:
        assert await log.recorded(session, "r-1") is None
        assert await log.record(session, "r-1", {"order_id": "O1", "fingerprint": "f1"})
        await session.commit()
    async with sessions() as session:
        assert not await log.record(session, "r-1", {"order_id": "O2", "fingerprint": "f2"})
        await session.commit()
    async with sessions() as session:
        answer = await log.recorded(session, "r-1")
    assert answer is not None and dict(answer) == {"order_id": "O1", "fingerprint": "f1"}


async def test_a_rolled_back_record_leaves_the_request_id_new(sessions) -> None:  # type: ignore[no-untyped-def]
    log = RequestLog(plain)
    async with sessions() as session:
        assert await log.record(session, "r-1", {"order_id": "O1", "fingerprint": "f1"})
        await session.rollback()
        assert await log.recorded(session, "r-1") is None


async def test_scoped_request_ids_are_one_id_space_per_scope(sessions) -> None:  # type: ignore[no-untyped-def]
    log = RequestLog(scoped, scope="scope")
    async with sessions() as session:
        assert await log.record(session, "r-1", {"ticket_id": "T1"}, scope="intake")
        assert await log.record(session, "r-1", {"ticket_id": "T2"}, scope="reply")
        assert not await log.record(session, "r-1", {"ticket_id": "T3"}, scope="reply")
        await session.commit()
        intake = await log.recorded(session, "r-1", scope="intake")
        reply = await log.recorded(session, "r-1", scope="reply")
        assert await log.recorded(session, "r-1", scope="other") is None
        with pytest.raises(TypeError, match="a scope"):
            await log.recorded(session, "r-1")
    assert intake is not None and intake["ticket_id"] == "T1"
    assert reply is not None and reply["ticket_id"] == "T2"


def test_a_table_keyed_otherwise_is_refused() -> None:
    with pytest.raises(ValueError, match="primary key"):
        RequestLog(scoped)  # its key has a scope
    with pytest.raises(ValueError, match="primary key"):
        RequestLog(plain, scope="scope")
