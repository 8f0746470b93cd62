"""The TCC coordinator: durable log first, then Try / Confirm / Cancel on every branch.

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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omslib.clock import Clock
from omslib.errors import FailedPrecondition, NotFound
from omslib.ids import new_id
from omslib.tcc.model import (
    BranchState,
    GlobalTransaction,
    Phase,
    TransactionState,
)
from omslib.tcc.store import TransactionStore
from omslib.tcc.tables import CoordinatorTables
from omslib.telemetry.attributes import SPAN_ATTR_BRANCH, SPAN_ATTR_GID

log = logging.getLogger("omslib.tcc")
tracer = trace.get_tracer("omslib.tcc")

SPAN_ATTR_OUTCOME = "oms.outcome"
PARKED_CODE = "TCC_TRANSACTION_PARKED"

T = TransactionState
B = BranchState


class TryRefused(Exception):
    """A participant refused the Try for a business reason (e.g. INSUFFICIENT_STOCK)."""

    def __init__(
        self, reason: str, message: str = "", metadata: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.message = message or reason
        self.metadata = dict(metadata or {})


class PhaseRefused(Exception):
    """A participant permanently refused Confirm/Cancel (e.g. the reservation expired).

    The transaction is parked at once: retrying cannot help, a person must look.
    """

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.message = message or reason


class Participant(Protocol):
    """One resource manager. Raise TryRefused/PhaseRefused for business answers;
    any other exception is an unknown outcome (timeout, unreachable)."""

    async def try_(self, gid: str, branch_id: str, payload: Any) -> Any: ...

    async def confirm(self, gid: str, branch_id: str) -> None: ...

    async def cancel(self, gid: str, branch_id: str) -> None: ...


# Runs inside the coordinator's local transaction, e.g. to move the business
# object with the transaction (atomically) or to write an outbox event.
LocalStep = Callable[[AsyncSession, GlobalTransaction], Awaitable[None]]


class Hooks(Protocol):
    async def on_transition(
        self, session: AsyncSession, tx: GlobalTransaction, before: TransactionState
    ) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Growing intervals with jitter; park after ``max_attempts`` failed rounds."""

    base: timedelta = timedelta(seconds=1)
    factor: float = 2.0
    max_interval: timedelta = timedelta(minutes=5)
    jitter: float = 0.2
    max_attempts: int = 8

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        raw = self.base.total_seconds() * (self.factor ** max(0, attempt - 1))
        capped = min(raw, self.max_interval.total_seconds())
        spread = 1.0 + rng.uniform(-self.jitter, self.jitter)
        return timedelta(seconds=max(0.0, capped * spread))


class TryOutcome:
    TRIED = "TRIED"
    REFUSED = "REFUSED"
    UNKNOWN = "UNKNOWN"
    LOST = "LOST"  # another coordinator took the transaction over meanwhile


@dataclass
class TryResult:
    outcome: str
    tx: GlobalTransaction | None
    results: dict[str, Any] = field(default_factory=dict)
    refusal: TryRefused | None = None
    error: str = ""
    #: What ``on_tried`` / ``on_refused`` returned (e.g. the business object as saved).
    recorded: Any = None


class TransactionNotFound(NotFound):
    reason = "TRANSACTION_NOT_FOUND"


class TransactionNotParked(FailedPrecondition):
    reason = "TRANSACTION_NOT_PARKED"


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
    ) -> None:
        self._sessions = sessions
        self.store = TransactionStore(tables)
        self._participants = dict(participants)
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self._lease = lease
        self.owner = owner or default_owner()
        self._hooks = hooks
        self._rng = rng or random.Random()

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
        tx.lease_owner = self.owner
        tx.lease_until = now + self._lease
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
                self._release(current)
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
                await session.rollback()
                return TryResult(TryOutcome.LOST, await self.get(gid), results)
            if outcome == TryOutcome.TRIED and on_tried is not None:
                recorded = await on_tried(session, current, results)
            elif refused_by is not None and on_refused is not None:
                recorded = await on_refused(session, current, refused_by)
            await self._transition(session, current, before)
            await session.commit()
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
            await session.commit()
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
            raise _concurrent(gid)
        return tx, True

    def _start_phase(
        self, tx: GlobalTransaction, target: TransactionState, now: datetime, *, reason: str
    ) -> None:
        tx.move_to(target, at=now, next_attempt=now + self._lease, reason=reason)
        tx.lease_owner = self.owner
        tx.lease_until = now + self._lease

    def _release(self, tx: GlobalTransaction) -> None:
        tx.lease_owner = ""
        tx.lease_until = None

    def lease_for(self, tx: GlobalTransaction, now: datetime) -> None:
        """Mark ``tx`` (about to be saved by the caller) as driven by this coordinator."""
        tx.lease_owner = self.owner
        tx.lease_until = now + self._lease

    async def drive(self, gid: str | GlobalTransaction) -> GlobalTransaction:
        """Run the pending Confirm/Cancel round now (the caller logged the phase with
        ``lease_for`` or ``decide``); returns the transaction as it stands afterwards.

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
        gid = tx.gid
        if tx.state not in (T.CONFIRMING, T.CANCELLING) or tx.lease_owner != self.owner:
            return tx
        phase = tx.phase
        op = "confirm" if phase is Phase.CONFIRM else "cancel"
        done: dict[str, bool] = {}
        errors: dict[str, str] = {}
        refused: PhaseRefused | None = None
        with tracer.start_as_current_span(f"tcc.{op}") as span:
            span.set_attribute(SPAN_ATTR_GID, gid)
            for b in tx.branches:
                if phase in b.done_for:
                    continue
                with tracer.start_as_current_span(f"tcc.{op} {b.branch_id}") as bspan:
                    bspan.set_attribute(SPAN_ATTR_GID, gid)
                    bspan.set_attribute(SPAN_ATTR_BRANCH, b.branch_id)
                    participant = self._participants[b.participant]
                    try:
                        if phase is Phase.CONFIRM:
                            await participant.confirm(gid, b.branch_id)
                        else:
                            await participant.cancel(gid, b.branch_id)
                        done[b.branch_id] = True
                        bspan.set_attribute(SPAN_ATTR_OUTCOME, "ok")
                    except PhaseRefused as err:
                        refused = refused or err
                        errors[b.branch_id] = f"{err.reason}: {err.message}"
                        bspan.set_attribute(SPAN_ATTR_OUTCOME, "refused")
                    except asyncio.CancelledError:
                        raise
                    except Exception as err:
                        errors[b.branch_id] = f"{type(err).__name__}: {err}"
                        bspan.set_attribute(SPAN_ATTR_OUTCOME, "error")
            span.set_attribute(SPAN_ATTR_OUTCOME, "ok" if not errors else "retry")

        current = copy.deepcopy(tx)  # the caller's copy stays as it was if the write loses
        async with self._sessions() as session:
            now = self._clock.now()
            before = current.state
            branch_state = B.CONFIRMED if phase is Phase.CONFIRM else B.CANCELLED
            for b in current.branches:
                if done.get(b.branch_id):
                    b.move_to(branch_state, at=now)
                if b.branch_id in errors:
                    b.attempts += 1
                    b.last_error = errors[b.branch_id]
                    b.update_time = now
            parked = False
            if not errors:
                final = T.CONFIRMED if phase is Phase.CONFIRM else T.CANCELLED
                current.move_to(final, at=now)
            else:
                current.attempts += 1
                if refused is not None or current.attempts >= self.policy.max_attempts:
                    why = (
                        f"{refused.reason}: {refused.message}"
                        if refused is not None
                        else f"{op} failed {current.attempts} times: "
                        + "; ".join(f"{k}: {v}" for k, v in errors.items())
                    )
                    current.move_to(T.PARKED, at=now, reason=why)
                    parked = True
                else:
                    current.next_attempt_time = now + self.policy.delay(current.attempts, self._rng)
                    current.update_time = now
            self._release(current)
            try:
                await self._transition(session, current, before)
            except Exception:
                # E.g. the hook's business row moved: because someone else took the
                # transaction over meanwhile (they finish it), or a genuine failure.
                await session.rollback()
                latest = await self.get(gid)
                if latest.version != tx.version:
                    return latest
                raise
            # Conditional on the version the round started from: when someone else took
            # the transaction over meanwhile, nothing of this round (hooks included) is kept.
            if not await self.store.save(session, current):
                await session.rollback()
                return await self.get(gid)
            await session.commit()
        if parked:
            log.error(
                "%s: transaction %s (%s %s) parked: %s",
                PARKED_CODE,
                gid,
                current.kind,
                current.subject,
                current.reason,
                extra={"code": PARKED_CODE, "gid": gid, "subject": current.subject},
            )
        return current

    # --------------------------------------------------------------- recovery
    async def recover_once(self, *, limit: int = 50) -> int:
        """Claim due unfinished transactions with a lease and drive each; how many were driven."""
        now = self._clock.now()
        async with self._sessions() as session:
            gids = await self.store.due(session, now=now, limit=limit)
        driven = 0
        for gid in gids:
            if await self._claim(gid):
                try:
                    await self._resume(gid)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("tcc recovery of %s failed; it is retried later", gid)
                driven += 1
        return driven

    async def _claim(self, gid: str) -> bool:
        async with self._sessions() as session:
            now = self._clock.now()
            ok = await self.store.claim(
                session, gid, owner=self.owner, now=now, until=now + self._lease
            )
            await session.commit()
            return ok

    async def _resume(self, gid: str) -> None:
        async with self._sessions() as session:
            now = self._clock.now()
            tx = await self._require(session, gid)
            if tx.lease_owner != self.owner:
                return
            if tx.state is T.TRYING:
                # The Try's outcome is unknown (its coordinator died or hung): cancel.
                before = tx.state
                self._start_phase(tx, T.CANCELLING, now, reason="try outcome unknown (recovered)")
                await self._transition(session, tx, before)
                if not await self.store.save(session, tx):
                    return
                await session.commit()
            elif tx.state not in (T.CONFIRMING, T.CANCELLING):
                return
        await self._run_phase(tx)

    async def run_recovery(self, *, every: timedelta, limit: int = 50) -> None:
        """Background loop: ``recover_once`` forever, pausing ``every`` when idle."""
        while True:
            try:
                driven = await self.recover_once(limit=limit)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tcc recovery round failed")
                driven = 0
            if driven < limit:
                await asyncio.sleep(every.total_seconds())

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
                raise _concurrent(gid)
            await session.commit()
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

    async def _transition(
        self, session: AsyncSession, tx: GlobalTransaction, before: TransactionState
    ) -> None:
        if self._hooks is not None and tx.state is not before:
            await self._hooks.on_transition(session, tx, before)


class ConcurrentTransactionChange(FailedPrecondition):
    reason = "TRANSACTION_CHANGED_CONCURRENTLY"


def _concurrent(gid: str) -> ConcurrentTransactionChange:
    return ConcurrentTransactionChange(
        f"transaction {gid} changed while being updated; retry", metadata={"gid": gid}
    )
