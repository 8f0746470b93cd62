"""The TCC coordinator: durable log first, then Try / Confirm / Cancel on every branch.

This module logs and decides; ``phase`` runs one Confirm/Cancel round,
``recovery`` finds and resumes unfinished work, ``retry`` says when to try
again, ``contracts`` is what participants and hooks implement.

Every phase is written to the log (its own local transaction) before any
participant is called, so a coordinator killed at any instant leaves a row the
recovery loop can finish. Work on a transaction is guarded twice: a lease
(``lease_owner``/``lease_until``, taken with one conditional UPDATE) says who
drives it now, and an optimistic ``version`` makes a writer that lost its lease
fail instead of overwriting a newer state. Participants are idempotent behind
their barrier, so calling a branch again after a crash is always safe.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omslib.clock import Clock
from omslib.ids import new_id
from omslib.tcc.contracts import (
    PARKED_CODE,
    Hooks,
    LocalStep,
    Participant,
    TransactionNotFound,
    TransactionNotParked,
    TryOutcome,
    TryRefused,
    TryResult,
    concurrent_change,
)
from omslib.tcc.model import BranchState, GlobalTransaction, Phase, TransactionState
from omslib.tcc.phase import SPAN_ATTR_OUTCOME, call_branches, fold_round
from omslib.tcc.recovery import Recovery
from omslib.tcc.retry import RetryPolicy
from omslib.tcc.store import TransactionStore
from omslib.tcc.tables import CoordinatorTables
from omslib.telemetry.attributes import SPAN_ATTR_BRANCH, SPAN_ATTR_GID

log = logging.getLogger("omslib.tcc")
tracer = trace.get_tracer("omslib.tcc")

T = TransactionState
B = BranchState


def default_owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{new_id()[-6:]}"


class Coordinator:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: CoordinatorTables,
        participants: Mapping[str, Participant],
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        lease: timedelta = timedelta(seconds=30),
        owner: str | None = None,
        hooks: Hooks | None = None,
        rng: random.Random | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        """``on_commit`` is called after each commit of the coordinator's own sessions
        that logged a new state: the commits that carry what ``hooks`` and the
        ``try_all``/``decide`` callbacks wrote (e.g. outbox events, so a service passes
        its relay's ``OutboxNotifier.notify``). The coordinator cannot see what they
        wrote, so a commit whose hooks wrote nothing calls it too; a rolled-back or
        lost write never does.
        """
        self._sessions = sessions
        self._on_commit = on_commit
        self.store = TransactionStore(tables)
        self._participants = dict(participants)
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self._lease = lease
        self.owner = owner or default_owner()
        self._hooks = hooks
        self._rng = rng or random.Random()
        self._recovery = Recovery(
            sessions, self.store, clock, owner=self.owner, lease=lease, resume=self.resume
        )

    # ------------------------------------------------------------------ begin
    async def begin(
        self,
        session: AsyncSession,
        gid: str,
        *,
        kind: str,
        subject: str,
        branches: Sequence[tuple[str, str]],
        try_deadline: datetime,
    ) -> GlobalTransaction:
        """Log a new TRYING transaction in the caller's session (the caller commits).

        ``try_deadline``: after it, the recovery loop treats the Try as lost and cancels.
        """
        for _, participant in branches:
            if participant not in self._participants:
                raise KeyError(f"unknown participant {participant}")
        now = self._clock.now()
        tx = GlobalTransaction.begin(
            gid,
            kind=kind,
            subject=subject,
            branches=list(branches),
            now=now,
            retry_at=try_deadline,
        )
        tx.lease_to(self.owner, now + self._lease)
        await self.store.add(session, tx)
        return tx

    async def begin_action(
        self,
        session: AsyncSession,
        gid: str,
        *,
        kind: str,
        subject: str,
        branches: Sequence[tuple[str, str]],
    ) -> GlobalTransaction:
        """Log a one-phase action (nothing to try, e.g. restocking goods that never left)
        straight into CONFIRMING, in the caller's session; the caller commits, then
        ``drive(tx)``. It gets the same retries, recovery, parking and alerts as a Confirm.
        """
        for _, participant in branches:
            if participant not in self._participants:
                raise KeyError(f"unknown participant {participant}")
        now = self._clock.now()
        tx = GlobalTransaction.begin(
            gid, kind=kind, subject=subject, branches=list(branches), now=now, retry_at=now
        )
        for branch in tx.branches:
            branch.move_to(B.TRIED, at=now)
        tx.move_to(T.TRIED, at=now)
        self._start_phase(tx, T.CONFIRMING, now, reason="")
        await self.store.add(session, tx)
        return tx

    # -------------------------------------------------------------------- try
    async def try_all(
        self,
        tx: GlobalTransaction,
        payloads: Mapping[str, Any],
        *,
        on_tried: Callable[[AsyncSession, GlobalTransaction, dict[str, Any]], Awaitable[Any]]
        | None = None,
        on_refused: Callable[[AsyncSession, GlobalTransaction, TryRefused], Awaitable[Any]]
        | None = None,
    ) -> TryResult:
        """Try every branch of ``tx`` (as logged by ``begin``, or read back while TRYING).

        All tried -> TRIED (``on_tried`` records the results in the same local
        transaction). A business refusal -> CANCELLING, ``on_refused`` records it,
        and the Cancel round runs at once. What the callback returns comes back
        as ``TryResult.recorded``. An unknown outcome (timeout,
        unreachable) changes nothing but the branch's error: the transaction
        stays TRYING, so repeating ``try_all`` (participants answer a repeated Try
        as before) finishes it, and only the recovery loop, once ``try_deadline``
        has passed, gives up and cancels. A transaction that moved meanwhile
        (another caller finished or cancelled it) is answered LOST, as it stands.
        """
        gid = tx.gid
        with tracer.start_as_current_span("tcc.try") as span:
            span.set_attribute(SPAN_ATTR_GID, gid)
            calls = [
                self._try_branch(tx, b.branch_id, b.participant, payloads.get(b.branch_id))
                for b in tx.branches
                if b.state is B.PREPARED
            ]
            answers = await asyncio.gather(*calls)
            results: dict[str, Any] = {}
            refusal: tuple[str, TryRefused] | None = None
            unknown: tuple[str, str] | None = None
            for branch_id, ok, value in answers:
                if ok:
                    results[branch_id] = value
                elif isinstance(value, TryRefused):
                    refusal = refusal or (branch_id, value)
                else:
                    unknown = unknown or (branch_id, f"{type(value).__name__}: {value}")
            if refusal is not None:
                outcome = TryOutcome.REFUSED
            elif unknown is not None:
                outcome = TryOutcome.UNKNOWN
            else:
                outcome = TryOutcome.TRIED
            span.set_attribute(SPAN_ATTR_OUTCOME, outcome)

        current = copy.deepcopy(tx)  # the caller's copy stays as it was if the write loses
        recorded: Any = None
        async with self._sessions() as session:
            now = self._clock.now()
            before = current.state
            if before is not T.TRYING:
                return TryResult(TryOutcome.LOST, await self._require(session, gid), results)
            if outcome == TryOutcome.UNKNOWN:
                assert unknown is not None
                branch = current.branch(unknown[0])
                branch.attempts += 1
                branch.last_error = unknown[1][:500]
                branch.update_time = now
            else:
                for branch_id in results:
                    current.branch(branch_id).move_to(B.TRIED, at=now)
            refused_by: TryRefused | None = None
            if outcome == TryOutcome.TRIED:
                current.move_to(T.TRIED, at=now)
                current.end_lease()
            elif outcome == TryOutcome.REFUSED:
                assert refusal is not None
                branch_id, refused_by = refusal
                reason = f"{refused_by.reason}: {refused_by.message}"
                current.branch(branch_id).move_to(B.TRY_FAILED, at=now, error=reason)
                self._start_phase(current, T.CANCELLING, now, reason=reason)
            # The log first, conditional on the version read: when the transaction moved
            # meanwhile (cancelled by recovery, finished by another caller), nothing of
            # this outcome is recorded, the callbacks included.
            if not await self.store.save(session, current):
                await session.rollback()  # then read the row as it stands, same connection
                return TryResult(TryOutcome.LOST, await self._require(session, gid), results)
            if outcome == TryOutcome.TRIED and on_tried is not None:
                recorded = await on_tried(session, current, results)
            elif refused_by is not None and on_refused is not None:
                recorded = await on_refused(session, current, refused_by)
            await self._transition(session, current, before)
            await self._commit(session, moved=current.state is not before)
        if outcome == TryOutcome.REFUSED:
            current = await self._run_phase(current) or current
        return TryResult(
            outcome,
            current,
            results,
            refusal=refusal[1] if refusal else None,
            error=unknown[1] if unknown else "",
            recorded=recorded,
        )

    async def _try_branch(
        self, tx: GlobalTransaction, branch_id: str, participant: str, payload: Any
    ) -> tuple[str, bool, Any]:
        with tracer.start_as_current_span(f"tcc.try {branch_id}") as span:
            span.set_attribute(SPAN_ATTR_GID, tx.gid)
            span.set_attribute(SPAN_ATTR_BRANCH, branch_id)
            try:
                value = await self._participants[participant].try_(tx.gid, branch_id, payload)
            except TryRefused as err:
                span.set_attribute(SPAN_ATTR_OUTCOME, "refused")
                return branch_id, False, err
            except asyncio.CancelledError:
                raise
            except Exception as err:  # unknown outcome: timeout, unreachable, crash
                span.set_attribute(SPAN_ATTR_OUTCOME, "unknown")
                return branch_id, False, err
            span.set_attribute(SPAN_ATTR_OUTCOME, "ok")
            return branch_id, True, value

    # -------------------------------------------------------- confirm/cancel
    async def confirm(self, gid: str, *, local: LocalStep | None = None) -> GlobalTransaction:
        """Log CONFIRMING (with ``local`` in the same local transaction), then confirm all.

        Idempotent: a transaction already confirming or confirmed is driven or returned.
        """
        return await self._decide(gid, T.CONFIRMING, local=local, reason="")

    async def cancel(
        self, gid: str, *, reason: str = "", local: LocalStep | None = None
    ) -> GlobalTransaction:
        return await self._decide(gid, T.CANCELLING, local=local, reason=reason)

    async def _decide(
        self, gid: str, target: TransactionState, *, local: LocalStep | None, reason: str
    ) -> GlobalTransaction:
        async with self._sessions() as session:
            tx, started = await self.decide(session, gid, target, local=local, reason=reason)
            if not started:
                return tx  # already decided the same way; the recovery loop drives it
            await self._commit(session, moved=True)
        return await self.drive(tx)

    async def decide(
        self,
        session: AsyncSession,
        gid: str,
        target: TransactionState,
        *,
        local: LocalStep | None = None,
        reason: str = "",
    ) -> tuple[GlobalTransaction, bool]:
        """Log CONFIRMING or CANCELLING (``target``) for ``gid`` in the caller's session.

        For callers that read their business rows in the same local transaction
        (e.g. the order being paid): they decide, commit, then ``drive(tx)``.
        Returns ``(tx, True)`` when this call started the phase (with this
        coordinator's lease), ``(tx, False)`` when the transaction was already
        decided the same way (nothing written). Raises on a conflicting move and
        ``ConcurrentTransactionChange`` when the log row changed since it was read.
        """
        if target not in (T.CONFIRMING, T.CANCELLING):
            raise ValueError(f"decide: target must be CONFIRMING or CANCELLING, not {target}")
        phase = Phase.CONFIRM if target is T.CONFIRMING else Phase.CANCEL
        final = T.CONFIRMED if target is T.CONFIRMING else T.CANCELLED
        now = self._clock.now()
        tx = await self._require(session, gid)
        if tx.state is final or (tx.state in (target, T.PARKED) and tx.phase is phase):
            return tx, False
        before = tx.state
        self._start_phase(tx, target, now, reason=reason)  # raises on a conflicting move
        if local is not None:
            await local(session, tx)
        await self._transition(session, tx, before)
        if not await self.store.save(session, tx):
            raise concurrent_change(gid)
        return tx, True

    def _start_phase(
        self, tx: GlobalTransaction, target: TransactionState, now: datetime, *, reason: str
    ) -> None:
        tx.move_to(target, at=now, next_attempt=now + self._lease, reason=reason)
        tx.lease_to(self.owner, now + self._lease)

    async def drive(self, gid: str | GlobalTransaction) -> GlobalTransaction:
        """Run the pending Confirm/Cancel round now (the caller logged the phase with
        ``decide`` or ``begin_action``); returns the transaction as it stands afterwards.

        Given the transaction as the caller just committed it, the log is not read
        again: the round's final write is conditional on its version anyway.
        """
        return await self._run_phase(gid) or await self.get(
            gid if isinstance(gid, str) else gid.gid
        )

    async def _run_phase(self, gid_or_tx: str | GlobalTransaction) -> GlobalTransaction | None:
        """Call Confirm/Cancel on every branch not yet done, then log the round's result.

        The result is written only if the log row still has the version read (or
        committed) before the round: a replica that lost its lease meanwhile
        writes nothing and answers the row as it now stands.
        """
        if isinstance(gid_or_tx, GlobalTransaction):
            tx = gid_or_tx
        else:
            async with self._sessions() as session:
                tx = await self._require(session, gid_or_tx)
        if tx.state not in (T.CONFIRMING, T.CANCELLING) or tx.lease_owner != self.owner:
            return tx
        answers = await call_branches(tx, self._participants)
        current = copy.deepcopy(tx)  # the caller's copy stays as it was if the write loses
        async with self._sessions() as session:
            before = current.state
            parked = fold_round(
                current, answers, now=self._clock.now(), policy=self.policy, rng=self._rng
            )
            current.end_lease()
            # Conditional on the version the round started from: when someone else took
            # the transaction over meanwhile, nothing of this round (hooks included) is kept.
            if not await self.store.save(session, current):
                await session.rollback()  # then read the row as it stands, same connection
                return await self._require(session, tx.gid)
            await self._transition(session, current, before)
            await self._commit(session, moved=current.state is not before)
        if parked:
            log.error(
                "%s: transaction %s (%s %s) parked: %s",
                PARKED_CODE,
                tx.gid,
                current.kind,
                current.subject,
                current.reason,
                extra={"code": PARKED_CODE, "gid": tx.gid, "subject": current.subject},
            )
        return current

    # --------------------------------------------------------------- recovery
    async def recover_once(self, *, limit: int = 50) -> int:
        """Claim due unfinished transactions with a lease and drive each; how many were driven."""
        return await self._recovery.once(limit=limit)

    async def run_recovery(self, *, every: timedelta, limit: int = 50) -> None:
        """Background loop: ``recover_once`` forever, pausing ``every`` when idle."""
        await self._recovery.run(every=every, limit=limit)

    async def take_back_leases(self) -> int:
        """At start: rounds still leased to this coordinator's owner were left by a killed
        predecessor in the same process slot (see ``omslib.workers.process_slot``); make
        them due now rather than waiting for their leases to run out. How many."""
        async with self._sessions() as session:
            taken = await self.store.take_back(session, owner=self.owner, now=self._clock.now())
            await session.commit()
        if taken:
            log.info("took back %d unfinished rounds of a previous process", taken)
        return taken

    async def resume(self, gid: str) -> None:
        """Finish ``gid``, claimed by this coordinator: a Try nobody finished is cancelled
        (its outcome is unknown), a Confirm/Cancel round is run again."""
        async with self._sessions() as session:
            now = self._clock.now()
            tx = await self._require(session, gid)
            if tx.lease_owner != self.owner:
                return
            if tx.state is T.TRYING:
                before = tx.state
                self._start_phase(tx, T.CANCELLING, now, reason="try outcome unknown (recovered)")
                if not await self.store.save(session, tx):
                    return
                await self._transition(session, tx, before)
                await self._commit(session, moved=True)
            elif tx.state not in (T.CONFIRMING, T.CANCELLING):
                return
        await self._run_phase(tx)

    # --------------------------------------------------------------- operator
    async def retry(self, gid: str, *, operator: str = "operator") -> GlobalTransaction:
        """Operator: put a PARKED transaction back into its phase and drive it now.

        Who asked is recorded in the transaction's reason (with what parked it)."""
        async with self._sessions() as session:
            now = self._clock.now()
            tx = await self._require(session, gid)
            if tx.state is not T.PARKED:
                raise TransactionNotParked(
                    f"transaction {gid} is {tx.state.value}, not PARKED",
                    metadata={"gid": gid, "current": tx.state.value},
                )
            before = tx.state
            target = T.CONFIRMING if tx.phase is Phase.CONFIRM else T.CANCELLING
            why = f"retried by {operator[:64]} after: {tx.reason}"[:500]
            self._start_phase(tx, target, now, reason=why)
            tx.attempts = 0
            await self._transition(session, tx, before)
            if not await self.store.save(session, tx):
                raise concurrent_change(gid)
            await self._commit(session, moved=True)
        return await self._run_phase(tx) or tx

    # ------------------------------------------------------------------ reads
    async def get(self, gid: str) -> GlobalTransaction:
        async with self._sessions() as session:
            return await self._require(session, gid)

    async def list(
        self,
        *,
        states: Sequence[TransactionState] = (),
        before_gid: str | None = None,
        limit: int = 100,
    ) -> list[GlobalTransaction]:
        async with self._sessions() as session:
            return await self.store.page(session, states=states, before_gid=before_gid, limit=limit)

    async def _require(self, session: AsyncSession, gid: str) -> GlobalTransaction:
        tx = await self.store.get(session, gid)
        if tx is None:
            raise TransactionNotFound(f"transaction {gid} not found", metadata={"gid": gid})
        return tx

    async def _commit(self, session: AsyncSession, *, moved: bool) -> None:
        """Commit one of the coordinator's own sessions; ``moved``: it logged a new state."""
        await session.commit()
        if moved and self._on_commit is not None:
            self._on_commit()

    async def _transition(
        self, session: AsyncSession, tx: GlobalTransaction, before: TransactionState
    ) -> None:
        if self._hooks is not None and tx.state is not before:
            await self._hooks.on_transition(session, tx, before)
