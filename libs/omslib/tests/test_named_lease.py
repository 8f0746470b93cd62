"""NamedLease: one holder at a time, renewal, expiry, release, races (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from omslib.clock import FakeClock
from omslib.outbox.named_lease import NamedLease
from omslib.testing.events_harness import OUTBOX, Sessions, open_db

TTL = timedelta(seconds=15)


def lease(sessions: Sessions, owner: str, clock: FakeClock, name: str = "work") -> NamedLease:
    return NamedLease(sessions, OUTBOX.leases, name, owner, ttl=TTL, clock=clock)


async def test_the_first_replica_holds_it_and_the_other_waits(sessions: Sessions) -> None:
    clock = FakeClock()
    a, b = lease(sessions, "a", clock), lease(sessions, "b", clock)

    assert await a.hold()
    assert not await b.hold()
    clock.advance(TTL - timedelta(seconds=1))
    assert await a.hold()  # renewed: good for another ttl from now
    clock.advance(TTL - timedelta(seconds=1))
    assert not await b.hold()
    assert await a.hold()


async def test_a_lease_not_renewed_passes_to_another_replica(sessions: Sessions) -> None:
    clock = FakeClock()
    a, b = lease(sessions, "a", clock), lease(sessions, "b", clock)
    assert await a.hold()

    clock.advance(TTL + timedelta(seconds=1))  # a stopped renewing (crashed, say)

    assert await b.hold()
    assert not await a.hold()
    assert a.held_until is None


async def test_release_hands_it_over_at_once(sessions: Sessions) -> None:
    clock = FakeClock()
    a, b = lease(sessions, "a", clock), lease(sessions, "b", clock)
    assert await a.hold()

    await a.release()

    assert await b.hold()
    assert not await a.hold()


async def test_leases_of_other_names_are_independent(sessions: Sessions) -> None:
    clock = FakeClock()
    assert await lease(sessions, "a", clock, "sync").hold()
    assert await lease(sessions, "b", clock, "report").hold()
    assert not await lease(sessions, "b", clock, "sync").hold()


async def test_replicas_racing_for_it_get_exactly_one_holder(sessions: Sessions) -> None:
    clock = FakeClock()
    replicas = [lease(sessions, f"r{n}", clock) for n in range(8)]
    for _ in range(3):  # free, then expired: both ways to take it
        held = await asyncio.gather(*(r.hold() for r in replicas))
        assert held.count(True) == 1
        clock.advance(TTL + timedelta(seconds=1))


async def test_without_the_database_it_is_kept_only_until_it_runs_out(database_url: str) -> None:
    engine, sessions = await open_db(database_url)
    clock = FakeClock()
    a = lease(sessions, "a", clock)
    assert await a.hold()
    await engine.dispose()
    broken = NamedLease(_unreachable_sessions(), OUTBOX.leases, "work", "a", ttl=TTL, clock=clock)
    broken.held_until = a.held_until

    clock.advance(TTL - timedelta(seconds=1))
    assert await broken.hold()  # still certainly ours: nobody can take it before it runs out
    clock.advance(timedelta(seconds=2))
    assert not await broken.hold()


def _unreachable_sessions() -> Sessions:
    from omslib.db import create_engine, session_factory

    # Nothing listens on port 1: every connection attempt is refused.
    return session_factory(create_engine("postgresql://nobody@127.0.0.1:1/none"))
