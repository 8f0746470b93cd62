"""The coordinator's log entry: the generic model of ``omslib.tcc`` plus this service's names."""

from __future__ import annotations

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

ORDER_PLACE = "order.place"
INVENTORY = "inventory"

__all__ = [
    "BRANCH_MOVES",
    "INVENTORY",
    "ORDER_PLACE",
    "TRANSACTION_MOVES",
    "Branch",
    "BranchState",
    "GlobalTransaction",
    "InvalidTransactionMove",
    "Phase",
    "TransactionState",
]
