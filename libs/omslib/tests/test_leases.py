"""omslib.db.leases: claim, renew, release and expiry (SQLite, and PostgreSQL when
OMS_TEST_POSTGRES_URL is set), with claimers racing on connections of their own."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from omslib.db import create_engine, session_factory
from omslib.db.leases import Lease, LeaseRows
from omslib.db.types import UtcDateTime
from omslib.testing.polling import eventually
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)
CLAIMERS = 8

metadata = sa.MetaData()
work = sa.Table(
    "work",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_until", UtcDateTime()),
    sa.Column("result", sa.String(64)),
)
keyed = sa.Table(
    "keyed_leases",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(16), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("lease_until", UtcDateTime(), nullable=False),
)
LEASE = Lease.on(work)
ROWS = LeaseRows.on(keyed, ("kind", "name"))
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(sa.insert(work), [{"id": "job"}, {"id": "other"}])
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> Sessions:
    return session_factory(engine)


async def run(sessions: Sessions, statement: Any) -> int:
    async with sessions() as session, session.begin():
        return int((await session.execute(statement)).rowcount)


def claim(owner: str, now: datetime, *, again: bool = False, job: str = "job") -> sa.Update:
    return LEASE.claim(work.c.id == job, owner=owner, now=now, until=now + TTL, again=again)


async def holder(sessions: Sessions, job: str = "job") -> tuple[str | None, datetime | None]:
    async with sessions() as session:
        row = (await session.execute(sa.select(work).where(work.c.id == job))).one()
    return row.lease_owner, row.lease_until


async def race(
    sessions: Sessions, attempt: Callable[[AsyncSession, str], Awaitable[Any]]
) -> list[Any]:
    """``CLAIMERS`` attempts, each in a transaction on a connection of its own, all
    started together once every connection is open."""
    ready = asyncio.Barrier(CLAIMERS)

    async def one(n: int) -> Any:
        async with sessions() as session, session.begin():
            await session.connection()
            await ready.wait()
            return await attempt(session, f"w{n}")

    return await asyncio.gather(*(one(n) for n in range(CLAIMERS)))


async def test_concurrent_claimers_get_a_row_exactly_once(sessions: Sessions) -> None:
    for now in (T0, T0 + TTL + timedelta(seconds=1)):  # free, then run out: both ways

        async def attempt(session: AsyncSession, owner: str, now: datetime = now) -> int:
            return int((await session.execute(claim(owner, now))).rowcount)

        won = await race(sessions, attempt)

        assert sorted(won) == [0] * (CLAIMERS - 1) + [1]
        assert (await holder(sessions))[0] == f"w{won.index(1)}"


async def test_concurrent_acquirers_get_each_key_exactly_once(
    sessions: Sessions, chaos_rng: random.Random
) -> None:
    keys = [("sku", f"k{n}") for n in range(12)]
    wants = [chaos_rng.sample(keys, 6) for _ in range(CLAIMERS)]  # overlapping, any order
    for now in (T0, T0 + TTL + timedelta(seconds=1)):  # inserted, then taken over

        async def attempt(session: AsyncSession, owner: str, now: datetime = now) -> list[Any]:
            mine = wants[int(owner[1:])]
            return await ROWS.acquire(session, mine, owner=owner, now=now, until=now + TTL)

        got = await race(sessions, attempt)

        counted = Counter(key for keys_got in got for key in keys_got)
        assert set(counted.values()) == {1}
        assert set(counted) == {key for want in wants for key in want}
        for n, keys_got in enumerate(got):
            assert set(keys_got) <= set(wants[n])


async def test_a_live_lease_is_refused_and_an_expired_one_taken_over(sessions: Sessions) -> None:
    assert await run(sessions, claim("a", T0)) == 1
    assert await run(sessions, claim("b", T0 + TTL - timedelta(seconds=1))) == 0
    assert await run(sessions, claim("b", T0 + TTL + timedelta(seconds=1))) == 1
    assert (await holder(sessions))[0] == "b"


async def test_renew_after_losing_the_lease_fails(sessions: Sessions) -> None:
    later = T0 + TTL + timedelta(seconds=1)
    assert await run(sessions, claim("a", T0)) == 1
    assert await run(sessions, claim("b", later)) == 1  # a stopped renewing in time

    assert await run(sessions, LEASE.renew(work.c.id == "job", owner="a", until=later + TTL)) == 0
    assert await run(sessions, LEASE.renew(work.c.id == "job", owner="b", until=later + TTL)) == 1
    assert await holder(sessions) == ("b", later + TTL)


async def test_renewing_in_time_keeps_others_out(sessions: Sessions) -> None:
    renewed_at = T0 + TTL - timedelta(seconds=1)
    assert await run(sessions, claim("a", T0)) == 1
    assert await run(sessions, LEASE.renew(work.c.id == "job", owner="a", until=renewed_at + TTL))

    assert await run(sessions, claim("b", T0 + TTL + timedelta(seconds=1))) == 0


async def test_claiming_again_renews_only_when_asked(sessions: Sessions) -> None:
    assert await run(sessions, claim("a", T0)) == 1
    assert await run(sessions, claim("a", T0 + timedelta(seconds=5))) == 0
    assert await run(sessions, claim("a", T0 + timedelta(seconds=5), again=True)) == 1
    assert await run(sessions, claim("b", T0 + timedelta(seconds=5), again=True)) == 0
    assert await holder(sessions) == ("a", T0 + timedelta(seconds=5) + TTL)


async def test_release_writes_the_holders_last_word_and_frees_the_row_at_once(
    sessions: Sessions,
) -> None:
    assert await run(sessions, claim("a", T0)) == 1
    last_word = {"result": "done"}

    assert await run(sessions, LEASE.release(work.c.id == "job", owner="b", values=last_word)) == 0
    assert await run(sessions, LEASE.release(work.c.id == "job", owner="a", values=last_word)) == 1

    assert await holder(sessions) == (None, None)
    assert await run(sessions, claim("b", T0 + timedelta(seconds=1))) == 1
    async with sessions() as session:
        assert await session.scalar(sa.select(work.c.result).where(work.c.id == "job")) == "done"


async def test_the_expired_predicate_finds_rows_nobody_holds(sessions: Sessions) -> None:
    assert await run(sessions, claim("a", T0)) == 1  # "other" was never leased

    async def free(now: datetime) -> list[str]:
        async with sessions() as session:
            found = await session.scalars(
                sa.select(work.c.id).where(LEASE.expired(now)).order_by(work.c.id)
            )
            return list(found)

    assert await free(T0 + TTL - timedelta(seconds=1)) == ["other"]
    assert await free(T0 + TTL + timedelta(seconds=1)) == ["job", "other"]


async def test_lease_rows_release_and_purge_only_what_they_should(sessions: Sessions) -> None:
    later = T0 + timedelta(seconds=10)
    async with sessions() as session, session.begin():
        assert await ROWS.acquire(
            session, [("a", "1"), ("a", "2")], owner="a", now=T0, until=T0 + TTL
        ) == [("a", "1"), ("a", "2")]
        assert await ROWS.acquire(
            session, [("b", "1"), ("a", "1")], owner="b", now=later, until=later + TTL
        ) == [("b", "1")]

    assert await run(sessions, ROWS.release(owner="b", keys=[("a", "1")])) == 0
    assert await run(sessions, ROWS.release(owner="a", keys=[("a", "1")])) == 1
    assert await run(sessions, ROWS.purge_expired(T0 + TTL + timedelta(seconds=1))) == 1  # a/2
    async with sessions() as session:
        left = (await session.execute(sa.select(keyed.c.kind, keyed.c.name, keyed.c.owner))).all()
    assert [tuple(row) for row in left] == [("b", "1", "b")]


async def test_a_claimer_waiting_behind_an_uncommitted_claim_gets_nothing(
    sessions: Sessions, db_backend: str
) -> None:
    """PostgreSQL: the waiting UPDATE checks its condition again against the winner's row."""
    if db_backend != "postgres":
        pytest.skip("row locks: PostgreSQL only (SQLite writers never overlap)")
    async with sessions() as first, first.begin():
        assert (await first.execute(claim("a", T0))).rowcount == 1
        second = asyncio.create_task(run(sessions, claim("b", T0)))
        await eventually(lambda: _waiting_on_a_lock(sessions), what="b waiting for a's row lock")
    assert await second == 0
    assert (await holder(sessions))[0] == "a"


async def _waiting_on_a_lock(sessions: Sessions) -> bool:
    async with sessions() as session:
        waiting = await session.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)
