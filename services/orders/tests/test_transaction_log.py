"""The coordinator's log entries move only along their own tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from oms_orders.domain.tcc import (
    BranchState,
    GlobalTransaction,
    InvalidTransactionMove,
    TransactionState,
)

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def _tx() -> GlobalTransaction:
    return GlobalTransaction.begin(
        "G1",
        kind="order.place",
        subject="orders/O1",
        branches=[("inventory-01", "inventory")],
        now=NOW,
        retry_at=NOW + timedelta(seconds=10),
    )


def test_a_new_transaction_is_trying_with_prepared_branches() -> None:
    tx = _tx()
    assert tx.state is TransactionState.TRYING
    assert [(b.branch_id, b.state) for b in tx.branches] == [("inventory-01", BranchState.PREPARED)]
    assert tx.next_attempt_time == NOW + timedelta(seconds=10)


def test_a_final_state_clears_the_next_attempt() -> None:
    tx = _tx()
    tx.move_to(TransactionState.CANCELLING, at=NOW, next_attempt=NOW)
    tx.move_to(TransactionState.CANCELLED, at=NOW, next_attempt=NOW)
    assert tx.next_attempt_time is None


def test_a_tried_transaction_cannot_jump_to_confirmed() -> None:
    tx = _tx()
    tx.move_to(TransactionState.TRIED, at=NOW)
    with pytest.raises(InvalidTransactionMove):
        tx.move_to(TransactionState.CONFIRMED, at=NOW)


def test_a_cancelled_branch_cannot_be_tried() -> None:
    branch = _tx().branch("inventory-01")
    branch.move_to(BranchState.CANCELLED, at=NOW)
    with pytest.raises(InvalidTransactionMove):
        branch.move_to(BranchState.TRIED, at=NOW)
