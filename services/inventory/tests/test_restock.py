"""RestockReservation: a confirmed reservation's units go back on hand, exactly once."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from oms.inventory.v1 import inventory_pb2 as ipb

PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
RESTOCKED = ipb.RESERVATION_STATE_RESTOCKED


@pytest.fixture
async def paid(kit):
    """g1 reserved 2 TEE and 6 MUG (split over HZ1 and GZ1), then confirmed."""
    await kit.warehouse("HZ1", "Zhejiang", ["Shanghai"])
    await kit.warehouse("GZ1", "Guangdong")
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.set_stock("MUG", "HZ1", 5)
    await kit.set_stock("MUG", "GZ1", 1)
    await kit.try_reserve("g1", [("TEE", 2), ("MUG", 6)], "Zhejiang", order_id="o1")
    await kit.confirm("g1")
    assert await kit.levels("TEE") == {"HZ1": (8, 0)}
    assert await kit.levels("MUG") == {"HZ1": (0, 0), "GZ1": (0, 0)}
    return kit


async def books(kit) -> tuple[object, ...]:
    """Everything a refused restock must leave as it was."""
    return (
        await kit.levels("TEE"),
        await kit.levels("MUG"),
        [e.id for e in await kit.audit()],
    )


async def test_restock_puts_the_units_back_where_they_were_taken_with_audit_entries(paid) -> None:
    kit = paid
    confirmed = await kit.reservation("g1")

    restocked = await kit.restock("g1", reason="order cancelled after payment")

    assert restocked.state == RESTOCKED
    assert kit.placed(restocked) == kit.placed(confirmed)
    assert await kit.reservation("g1") == restocked
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}
    assert await kit.levels("MUG") == {"HZ1": (5, 0), "GZ1": (1, 0)}
    entries = [e for e in await kit.audit() if e.action == "restock"]
    moves = {(e.sku, e.warehouse_code): (e.on_hand_before, e.on_hand_after) for e in entries}
    assert moves == {("TEE", "HZ1"): (8, 10), ("MUG", "HZ1"): (0, 5), ("MUG", "GZ1"): (0, 1)}
    for entry in entries:
        assert entry.reserved_before == entry.reserved_after == 0
        assert entry.actor == "tcc:g1/inventory-01"
        assert "order o1" in entry.note
        assert "order cancelled after payment" in entry.note
        assert "restock:g1:inventory-01" in entry.note


async def test_a_repeated_restock_answers_the_same_and_moves_nothing_again(paid) -> None:
    kit = paid
    first = await kit.restock("g1")
    after_first = await books(kit)

    again = await kit.restock("g1", reason="a retried delivery")

    assert again == first
    assert await books(kit) == after_first
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}


async def test_concurrent_restocks_of_one_branch_put_the_units_back_once(paid) -> None:
    kit = paid

    answers = await asyncio.gather(*(kit.restock("g1") for _ in range(10)))

    assert {answer.SerializeToString() for answer in answers} == {answers[0].SerializeToString()}
    assert answers[0].state == RESTOCKED
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}
    assert await kit.levels("MUG") == {"HZ1": (5, 0), "GZ1": (1, 0)}
    assert len([e for e in await kit.audit() if e.action == "restock"]) == 3


async def test_restock_of_a_reservation_not_yet_confirmed_is_refused(paid) -> None:
    kit = paid
    await kit.try_reserve("g2", [("TEE", 3)])
    before = await books(kit)

    error = await kit.refused(kit.restock("g2"))

    assert (error.code, error.reason, error.domain) == (
        PRECONDITION,
        "RESERVATION_NOT_CONFIRMED",
        "inventory.oms",
    )
    assert error.metadata["state"] == "RESERVED"
    assert await books(kit) == before
    assert (await kit.reservation("g2")).state == ipb.RESERVATION_STATE_RESERVED
    assert (await kit.confirm("g2")).state == ipb.RESERVATION_STATE_CONFIRMED


async def test_restock_of_a_cancelled_reservation_is_refused(paid) -> None:
    kit = paid
    await kit.try_reserve("g2", [("TEE", 3)])
    await kit.cancel("g2")
    before = await books(kit)

    error = await kit.refused(kit.restock("g2"))

    assert (error.code, error.reason) == (PRECONDITION, "RESERVATION_NOT_CONFIRMED")
    assert error.metadata["state"] == "CANCELLED"
    assert await books(kit) == before
    assert (await kit.reservation("g2")).state == ipb.RESERVATION_STATE_CANCELLED


async def test_restock_of_an_unknown_branch_is_not_found(paid) -> None:
    kit = paid
    before = await books(kit)

    error = await kit.refused(kit.restock("g1", branch_id="inventory-99"))

    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "RESERVATION_NOT_FOUND")
    assert await books(kit) == before


@pytest.mark.parametrize(
    ("case", "gid", "reason"),
    [
        ("no reason", "g1", ""),
        ("blank reason", "g1", "   "),
        ("reason too long", "g1", "x" * 201),
        ("no gid", "", "order cancelled after payment"),
    ],
)
async def test_an_invalid_restock_is_an_invalid_argument(paid, case, gid, reason) -> None:
    kit = paid
    before = await books(kit)

    error = await kit.refused(kit.restock(gid, reason=reason))

    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert await books(kit) == before
    assert (await kit.reservation("g1")).state == ipb.RESERVATION_STATE_CONFIRMED


async def test_after_a_restock_a_late_confirm_deducts_nothing_and_a_cancel_is_refused(
    paid,
) -> None:
    kit = paid
    await kit.restock("g1")
    before = await books(kit)

    late_confirm = await kit.confirm("g1")
    cancel = await kit.refused(kit.cancel("g1"))

    assert late_confirm.state == RESTOCKED
    assert (cancel.code, cancel.reason) == (PRECONDITION, "RESERVATION_CONFIRMED")
    assert await books(kit) == before
