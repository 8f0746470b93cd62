"""What the coordinator asks of its participants and hooks, and what it answers.

Participants raise ``TryRefused``/``PhaseRefused`` for business answers; any
other exception is an unknown outcome (timeout, unreachable), retried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from omslib.errors import FailedPrecondition, NotFound
from omslib.tcc.model import GlobalTransaction, TransactionState

PARKED_CODE = "TCC_TRANSACTION_PARKED"


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
    """Called in the local transaction that logs each new state of a transaction."""

    async def on_transition(
        self, session: AsyncSession, tx: GlobalTransaction, before: TransactionState
    ) -> None: ...


class TryOutcome:
    TRIED = "TRIED"
    REFUSED = "REFUSED"
    UNKNOWN = "UNKNOWN"
    LOST = "LOST"  # another caller or the recovery loop moved the transaction meanwhile


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


class ConcurrentTransactionChange(FailedPrecondition):
    reason = "TRANSACTION_CHANGED_CONCURRENTLY"


def concurrent_change(gid: str) -> ConcurrentTransactionChange:
    return ConcurrentTransactionChange(
        f"transaction {gid} changed while being updated; retry", metadata={"gid": gid}
    )
