"""The coordinator's model: a global transaction, its branches and their legal moves.

Pure data and rules; no SQLAlchemy, no gRPC. See docs/tcc.md for the state diagram.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from omslib.errors import FailedPrecondition


class TransactionState(enum.Enum):
    TRYING = "TRYING"
    TRIED = "TRIED"
    CONFIRMING = "CONFIRMING"
    CONFIRMED = "CONFIRMED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    PARKED = "PARKED"


class BranchState(enum.Enum):
    PREPARED = "PREPARED"
    TRIED = "TRIED"
    TRY_FAILED = "TRY_FAILED"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


class Phase(enum.Enum):
    """What a transaction in CONFIRMING/CANCELLING/PARKED still has to do."""

    NONE = ""
    CONFIRM = "confirm"
    CANCEL = "cancel"


T = TransactionState
B = BranchState
E = TypeVar("E", bound=enum.Enum)

TRANSACTION_MOVES: Mapping[TransactionState, frozenset[TransactionState]] = {
    T.TRYING: frozenset({T.TRIED, T.CANCELLING}),
    T.TRIED: frozenset({T.CONFIRMING, T.CANCELLING}),
    T.CONFIRMING: frozenset({T.CONFIRMED, T.PARKED}),
    T.CANCELLING: frozenset({T.CANCELLED, T.PARKED}),
    T.PARKED: frozenset({T.CONFIRMING, T.CANCELLING}),
    T.CONFIRMED: frozenset(),
    T.CANCELLED: frozenset(),
}

BRANCH_MOVES: Mapping[BranchState, frozenset[BranchState]] = {
    B.PREPARED: frozenset({B.TRIED, B.TRY_FAILED, B.CANCELLED}),
    B.TRIED: frozenset({B.CONFIRMED, B.CANCELLED}),
    B.TRY_FAILED: frozenset({B.CANCELLED}),
    B.CONFIRMED: frozenset(),
    B.CANCELLED: frozenset(),
}

FINAL_STATES = frozenset({T.CONFIRMED, T.CANCELLED})
# States the recovery loop drives when their next attempt is due.
RECOVERABLE_STATES = frozenset({T.TRYING, T.CONFIRMING, T.CANCELLING})


class InvalidTransactionMove(FailedPrecondition):
    reason = "INVALID_TRANSACTION_TRANSITION"


@dataclass
class Branch:
    branch_id: str
    participant: str
    state: BranchState
    update_time: datetime
    attempts: int = 0
    last_error: str = ""
    #: The branch as the log holds it (set by the store when it reads or writes the
    #: branch), so a save writes only the branches that changed.
    stored: tuple[object, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def row_values(self) -> tuple[object, ...]:
        """What the log stores of the branch besides its identity."""
        return (self.state, self.attempts, self.last_error, self.update_time)

    def move_to(self, state: BranchState, *, at: datetime, error: str = "") -> None:
        if state is self.state:
            return
        _check(BRANCH_MOVES, self.state, state, f"branch {self.branch_id}")
        self.state = state
        self.update_time = at
        if error:
            self.last_error = error

    @property
    def done_for(self) -> frozenset[Phase]:
        if self.state is B.CONFIRMED:
            return frozenset({Phase.CONFIRM})
        if self.state is B.CANCELLED:
            return frozenset({Phase.CANCEL})
        return frozenset()


@dataclass
class GlobalTransaction:
    gid: str
    kind: str
    subject: str
    state: TransactionState
    create_time: datetime
    update_time: datetime
    branches: list[Branch] = field(default_factory=list)
    next_attempt_time: datetime | None = None
    reason: str = ""
    phase: Phase = Phase.NONE
    attempts: int = 0
    lease_owner: str = ""
    lease_until: datetime | None = None
    version: int = 0

    @classmethod
    def begin(
        cls,
        gid: str,
        *,
        kind: str,
        subject: str,
        branches: list[tuple[str, str]],
        now: datetime,
        retry_at: datetime,
    ) -> GlobalTransaction:
        """A new transaction in TRYING with its (branch_id, participant) branches PREPARED.

        ``retry_at``: when the recovery loop treats the Try as lost (outcome unknown).
        """
        return cls(
            gid=gid,
            kind=kind,
            subject=subject,
            state=T.TRYING,
            create_time=now,
            update_time=now,
            branches=[Branch(b, p, B.PREPARED, now) for b, p in branches],
            next_attempt_time=retry_at,
        )

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def lease_to(self, owner: str, until: datetime) -> None:
        """``owner`` drives this transaction until ``until`` (written with the next save)."""
        self.lease_owner, self.lease_until = owner, until

    def end_lease(self) -> None:
        """Nobody drives this transaction (written with the next save)."""
        self.lease_owner, self.lease_until = "", None

    def branch(self, branch_id: str) -> Branch:
        for branch in self.branches:
            if branch.branch_id == branch_id:
                return branch
        raise KeyError(branch_id)

    def move_to(
        self,
        state: TransactionState,
        *,
        at: datetime,
        next_attempt: datetime | None = None,
        reason: str = "",
    ) -> None:
        """Apply one move; ``next_attempt`` is when the coordinator looks again (None if final)."""
        _check(TRANSACTION_MOVES, self.state, state, f"transaction {self.gid}")
        if state is T.CONFIRMING:
            self.phase = Phase.CONFIRM
        elif state is T.CANCELLING:
            self.phase = Phase.CANCEL
        if state in (T.CONFIRMING, T.CANCELLING) and self.state is not T.PARKED:
            self.attempts = 0
        self.state = state
        self.update_time = at
        self.next_attempt_time = None if not TRANSACTION_MOVES[state] else next_attempt
        if state in FINAL_STATES:
            self.next_attempt_time = None
        if reason:
            self.reason = reason


def _check(table: Mapping[E, frozenset[E]], current: E, requested: E, what: str) -> None:
    if requested not in table[current]:
        raise InvalidTransactionMove(
            f"{what} cannot move from {current.value} to {requested.value}",
            metadata={"current": str(current.value), "requested": str(requested.value)},
        )
