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

#: Placing an order: Try reserves its stock, Confirm deducts it, Cancel releases it.
ORDER_PLACE = "order.place"
#: A paid order ended before shipment: its deducted units go back on hand (one phase).
ORDER_RESTOCK = "order.restock"
#: Participants, as the coordinator knows them.
INVENTORY = "inventory"
INVENTORY_RESTOCK = "inventory-restock"
#: The place transaction's one branch (the restock's branch is named by the place's gid).
INVENTORY_BRANCH = "inventory-01"

__all__ = [
    "BRANCH_MOVES",
    "INVENTORY",
    "INVENTORY_BRANCH",
    "INVENTORY_RESTOCK",
    "ORDER_PLACE",
    "ORDER_RESTOCK",
    "TRANSACTION_MOVES",
    "Branch",
    "BranchState",
    "GlobalTransaction",
    "InvalidTransactionMove",
    "Phase",
    "TransactionState",
]
