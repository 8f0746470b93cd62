"""The coordinator against in-memory participants and a real database (SQLite/PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from omslib.clock import FakeClock
from omslib.ids import new_id
from omslib.tcc import (
    PARKED_CODE,
    BranchState,
    Coordinator,
    GlobalTransaction,
    InvalidTransactionMove,
    PhaseRefused,
    RetryPolicy,
    TransactionNotParked,
    TransactionState,
    TryOutcome,
    TryRefused,
)
from sqlalchemy.ext.asyncio import AsyncSession

T = TransactionState


class FakeParticipant:
    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str, str]] = Counter()
        self.refuse_try = False
        self.try_error: Exception | None = None
        self.confirm_failures = 0
        self.cancel_failures = 0
        self.confirm_refused = False

    async def try_(self, gid: str, branch_id: str, payload: Any) -> Any:
        self.calls[("try", gid, branch_id)] += 1
        if self.refuse_try:
            raise TryRefused("INSUFFICIENT_STOCK", "not enough")
        if self.try_error is not None:
            raise self.try_error
        return {"payload": payload}

    async def confirm(self, gid: str, branch_id: str) -> None:
        self.calls[("confirm", gid, branch_id)] += 1
        if self.confirm_refused:
            raise PhaseRefused("RESERVATION_EXPIRED", "released by the backstop")
        if self.confirm_failures > 0:
            self.confirm_failures -= 1
            raise ConnectionError("unreachable")

    async def cancel(self, gid: str, branch_id: str) -> None:
        self.calls[("cancel", gid, branch_id)] += 1
        if self.cancel_failures > 0:
            self.cancel_failures -= 1
            raise TimeoutError("deadline exceeded")


class Recorder:
    def __init__(self) -> None:
        self.moves: list[tuple[str, str, str]] = []

    async def on_transition(
        self, session: AsyncSession, tx: GlobalTransaction, before: TransactionState
    ) -> None:
        self.moves.append((tx.gid, before.value, tx.state.value))


def make(db, clock, parts, **kw) -> Coordinator:  # type: ignore[no-untyped-def]
    return Coordinator(
        db.sessions,
        db.tables,
        parts,
        clock,
        policy=kw.pop("policy", RetryPolicy(max_attempts=3)),
        rng=random.Random(1),
        **kw,
    )


async def begin(c: Coordinator, db, clock, n: int = 2) -> str:  # type: ignore[no-untyped-def]
    gid = new_id()
    async with db.sessions() as session:
        await c.begin(
            session,
            gid,
            kind="test",
            subject=f"s/{gid}",
            branches=[(f"b{i}", "a" if i % 2 == 0 else "b") for i in range(n)],
            try_deadline=clock.now() + timedelta(seconds=10),
        )
        await session.commit()
    return gid


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def parts() -> dict[str, FakeParticipant]:
    return {"a": FakeParticipant(), "b": FakeParticipant()}


async def test_try_then_confirm_reaches_confirmed(db, clock, parts) -> None:
    hooks = Recorder()
    c = make(db, clock, parts, hooks=hooks)
    gid = await begin(c, db, clock)
    tried = await c.try_all(await c.get(gid), {"b0": 1, "b1": 2})
    assert tried.outcome == TryOutcome.TRIED
    assert tried.results == {"b0": {"payload": 1}, "b1": {"payload": 2}}
    tx = await c.confirm(gid)
    assert tx.state is T.CONFIRMED
    assert {b.state for b in tx.branches} == {BranchState.CONFIRMED}
    assert [m[1:] for m in hooks.moves] == [
        ("TRYING", "TRIED"),
        ("TRIED", "CONFIRMING"),
        ("CONFIRMING", "CONFIRMED"),
    ]
    again = await c.confirm(gid)  # idempotent
    assert again.state is T.CONFIRMED
    assert parts["a"].calls[("confirm", gid, "b0")] == 1


async def test_a_business_refusal_cancels_every_branch(db, clock, parts) -> None:
    parts["b"].refuse_try = True
    c = make(db, clock, parts)
    gid = await begin(c, db, clock)
    result = await c.try_all(await c.get(gid), {})
    assert result.outcome == TryOutcome.REFUSED
    assert result.refusal is not None and result.refusal.reason == "INSUFFICIENT_STOCK"
    tx = await c.get(gid)
    assert tx.state is T.CANCELLED
    assert {b.state for b in tx.branches} == {BranchState.CANCELLED}
    assert parts["a"].calls[("cancel", gid, "b0")] == 1
    assert parts["b"].calls[("cancel", gid, "b1")] == 1  # the refused branch too (empty)
    assert "INSUFFICIENT_STOCK" in tx.reason


async def test_an_unknown_try_outcome_stays_trying_and_a_repeat_finishes_it(
    db, clock, parts
) -> None:
    parts["a"].try_error = TimeoutError("deadline")
    c = make(db, clock, parts)
    gid = await begin(c, db, clock)
    result = await c.try_all(await c.get(gid), {})
    assert result.outcome == TryOutcome.UNKNOWN
    tx = await c.get(gid)
    assert tx.state is T.TRYING
    assert "deadline" in tx.branch("b0").last_error
    parts["a"].try_error = None
    again = await c.try_all(await c.get(gid), {})
    assert again.outcome == TryOutcome.TRIED
    assert (await c.get(gid)).state is T.TRIED


async def test_an_unknown_try_outcome_is_cancelled_by_recovery_after_its_deadline(
    db, clock, parts
) -> None:
    parts["a"].try_error = TimeoutError("deadline")
    c = make(db, clock, parts)
    gid = await begin(c, db, clock)
    await c.try_all(await c.get(gid), {})
    assert await c.recover_once() == 0  # the deadline has not passed
    clock.advance(timedelta(seconds=61))  # past the Try deadline and the lease
    assert await c.recover_once() == 1
    assert (await c.get(gid)).state is T.CANCELLED


async def test_a_try_that_answers_after_its_transaction_moved_records_nothing(
    db, clock, parts
) -> None:
    c = make(db, clock, parts)
    gid = await begin(c, db, clock)
    stale = await c.get(gid)
    clock.advance(timedelta(seconds=61))  # past the Try deadline and the lease
    await c.recover_once()  # gives up on the Try: CANCELLED
    recorded = []

    async def on_tried(session, tx, results):  # type: ignore[no-untyped-def]
        recorded.append(tx.gid)

    result = await c.try_all(stale, {}, on_tried=on_tried)
    assert result.outcome == TryOutcome.LOST
    assert recorded == []
    assert (await c.get(gid)).state is T.CANCELLED


async def test_on_commit_follows_each_own_commit_that_logged_a_new_state_and_no_other(
    db, clock, parts
) -> None:
    commits: list[str] = []
    c = make(db, clock, parts, on_commit=lambda: commits.append("commit"))
    gid = await begin(c, db, clock)  # logged in the caller's session: the caller commits
    assert commits == []
    parts["a"].try_error = TimeoutError("deadline")
    assert (await c.try_all(await c.get(gid), {})).outcome == TryOutcome.UNKNOWN
    assert commits == []  # only a branch's error was written: still TRYING
    stale = await c.get(gid)
    parts["a"].try_error = None
    assert (await c.try_all(await c.get(gid), {})).outcome == TryOutcome.TRIED
    assert len(commits) == 1
    assert (await c.try_all(stale, {})).outcome == TryOutcome.LOST  # rolled back
    assert len(commits) == 1
    parts["b"].confirm_failures = 1
    assert (await c.confirm(gid)).state is T.CONFIRMING  # CONFIRMING logged; its round failed
    assert len(commits) == 2
    clock.advance(timedelta(minutes=5))  # past the lease and the retry
    assert await c.recover_once() == 1
    assert (await c.get(gid)).state is T.CONFIRMED
    assert len(commits) == 3


async def test_confirm_is_retried_with_growing_intervals_then_parked(
    db, clock, parts, caplog
) -> None:
    parts["a"].confirm_failures = 100
    hooks = Recorder()
    c = make(db, clock, parts, hooks=hooks, policy=RetryPolicy(max_attempts=4, jitter=0.0))
    gid = await begin(c, db, clock)
    await c.try_all(await c.get(gid), {})
    tx = await c.confirm(gid)
    assert tx.state is T.CONFIRMING and tx.attempts == 1
    delays = []
    while tx.state is T.CONFIRMING:
        assert tx.next_attempt_time is not None
        delays.append(tx.next_attempt_time - clock.now())
        assert await c.recover_once() == 0  # not due yet
        clock.set(tx.next_attempt_time)
        with caplog.at_level(logging.ERROR, logger="omslib.tcc"):
            assert await c.recover_once() == 1
        tx = await c.get(gid)
    assert delays == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=4)]
    assert tx.state is T.PARKED and tx.attempts == 4
    assert any(PARKED_CODE in r.getMessage() for r in caplog.records)
    assert (gid, "CONFIRMING", "PARKED") in hooks.moves
    # b1 succeeded on the first round and is not called again
    assert parts["b"].calls[("confirm", gid, "b1")] == 1
    assert tx.branch("b1").state is BranchState.CONFIRMED

    parts["a"].confirm_failures = 0
    retried = await c.retry(gid)
    assert retried.state is T.CONFIRMED
    with pytest.raises(TransactionNotParked):
        await c.retry(gid)


async def test_jitter_spreads_the_intervals() -> None:
    policy = RetryPolicy(jitter=0.2)
    rng = random.Random(7)
    delays = {policy.delay(3, rng) for _ in range(20)}
    assert len(delays) > 1
    assert all(timedelta(seconds=3.2) <= d <= timedelta(seconds=4.8) for d in delays)


async def test_a_permanent_confirm_refusal_parks_at_once(db, clock, parts) -> None:
    parts["a"].confirm_refused = True
    c = make(db, clock, parts)
    gid = await begin(c, db, clock)
    await c.try_all(await c.get(gid), {})
    tx = await c.confirm(gid)
    assert tx.state is T.PARKED
    assert "RESERVATION_EXPIRED" in tx.reason


async def test_cancel_after_confirm_is_refused(db, clock, parts) -> None:
    c = make(db, clock, parts)
    gid = await begin(c, db, clock)
    await c.try_all(await c.get(gid), {})
    await c.confirm(gid)
    with pytest.raises(InvalidTransactionMove):
        await c.cancel(gid)


async def test_recovery_resumes_a_phase_left_by_a_dead_coordinator(db, clock, parts) -> None:
    dead = make(db, clock, parts, owner="dead", lease=timedelta(seconds=30))
    gid = await begin(dead, db, clock)
    await dead.try_all(await dead.get(gid), {})
    # The coordinator logs CONFIRMING and dies before calling any participant.
    async with db.sessions() as session:
        tx = await dead.store.get(session, gid)
        assert tx is not None
        tx.move_to(T.CONFIRMING, at=clock.now(), next_attempt=clock.now() + timedelta(seconds=30))
        tx.lease_owner, tx.lease_until = "dead", clock.now() + timedelta(seconds=30)
        await dead.store.save(session, tx)
        await session.commit()
    alive = make(db, clock, parts, owner="alive")
    assert await alive.recover_once() == 0  # the lease still holds
    clock.advance(timedelta(seconds=31))
    assert await alive.recover_once() == 1
    assert (await alive.get(gid)).state is T.CONFIRMED


async def test_recovery_cancels_a_try_whose_coordinator_died(db, clock, parts) -> None:
    c = make(db, clock, parts)
    gid = await begin(c, db, clock)  # logged TRYING, never tried
    clock.advance(timedelta(seconds=31))
    assert await c.recover_once() == 1
    tx = await c.get(gid)
    assert tx.state is T.CANCELLED
    assert parts["a"].calls[("cancel", gid, "b0")] == 1


async def test_replicas_never_drive_the_same_transaction_twice(db, clock, parts) -> None:
    creator = make(db, clock, parts, owner="creator")
    gids = [await begin(creator, db, clock) for _ in range(20)]
    clock.advance(timedelta(seconds=31))
    replicas = [make(db, clock, parts, owner=f"r{i}") for i in range(3)]
    counts = await asyncio.gather(*(r.recover_once(limit=100) for r in replicas))
    assert sum(counts) == 20
    for gid in gids:
        assert (await creator.get(gid)).state is T.CANCELLED
        assert parts["a"].calls[("cancel", gid, "b0")] == 1
        assert parts["b"].calls[("cancel", gid, "b1")] == 1


async def test_list_by_state(db, clock, parts) -> None:
    c = make(db, clock, parts)
    g1 = await begin(c, db, clock)
    g2 = await begin(c, db, clock)
    await c.try_all(await c.get(g1), {})
    await c.try_all(await c.get(g2), {})
    await c.confirm(g2)
    assert [t.gid for t in await c.list(states=[T.TRIED])] == [g1]
    assert [t.gid for t in await c.list()] == [g2, g1]


async def test_a_restarted_coordinator_takes_back_its_predecessors_rounds_at_once(
    db, clock, parts
) -> None:
    dead = make(db, clock, parts, owner="host:50051:0")
    gid = await begin(dead, db, clock)
    await dead.try_all(await dead.get(gid), {})
    async with db.sessions() as session:  # killed after logging CONFIRMING, before the round
        await dead.decide(session, gid, T.CONFIRMING)
        await session.commit()
    clock.advance(timedelta(seconds=5))  # well inside its 30 s lease
    stranger = make(db, clock, parts, owner="host:50052:0")
    assert await stranger.recover_once() == 0  # leased: not another slot's to take
    restarted = make(db, clock, parts, owner="host:50051:0")
    assert await restarted.take_back_leases() == 1
    assert await restarted.recover_once() == 1
    assert (await restarted.get(gid)).state is T.CONFIRMED
