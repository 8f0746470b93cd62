"""Generic TCC (Try-Confirm-Cancel): coordinator with a durable log, participant barrier.

See docs/tcc.md. Services add ``coordinator_tables``/``barrier_table`` to their own
metadata and migrations, build a ``Coordinator`` with their participants, and guard
participant methods with ``Barrier``.
"""

from omslib.tcc.barrier import (
    CANCEL,
    CONFIRM,
    TRY,
    Barrier,
    Guard,
    run_purge_loop,
)
from omslib.tcc.contracts import (
    PARKED_CODE,
    ConcurrentTransactionChange,
    Hooks,
    Participant,
    PhaseRefused,
    TransactionNotFound,
    TransactionNotParked,
    TryOutcome,
    TryRefused,
    TryResult,
)
from omslib.tcc.coordinator import Coordinator
from omslib.tcc.model import (
    BRANCH_MOVES,
    TRANSACTION_MOVES,
    Branch,
    BranchState,
    GlobalTransaction,
    InvalidTransactionMove,
    Phase,
    TransactionState,
)
from omslib.tcc.retry import RetryPolicy
from omslib.tcc.store import TransactionStore
from omslib.tcc.tables import (
    LEASE_COLUMNS,
    CoordinatorTables,
    barrier_table,
    coordinator_tables,
)

__all__ = [
    "BRANCH_MOVES",
    "CANCEL",
    "CONFIRM",
    "LEASE_COLUMNS",
    "PARKED_CODE",
    "TRANSACTION_MOVES",
    "TRY",
    "Barrier",
    "Branch",
    "BranchState",
    "ConcurrentTransactionChange",
    "Coordinator",
    "CoordinatorTables",
    "GlobalTransaction",
    "Guard",
    "Hooks",
    "InvalidTransactionMove",
    "Participant",
    "Phase",
    "PhaseRefused",
    "RetryPolicy",
    "TransactionNotFound",
    "TransactionNotParked",
    "TransactionState",
    "TransactionStore",
    "TryOutcome",
    "TryRefused",
    "TryResult",
    "barrier_table",
    "coordinator_tables",
    "run_purge_loop",
]
