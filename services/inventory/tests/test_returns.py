"""Returns as the refund TCC's inventory branch: expected goods (Try), receipts, restock by
disposition (Confirm), release (Cancel), all behind the barrier and restocked once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1 import inventory_service_pb2 as pb
from oms_inventory.adapters import orm
from oms_inventory.adapters.barrier import BARRIER

PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
FIT = ipb.RETURN_CONDITION_RESELLABLE
BROKEN = ipb.RETURN_CONDITION_DAMAGED
EXPECTED = ipb.EXPECTED_RETURN_STATE_EXPECTED
CONFIRMED = ipb.EXPECTED_RETURN_STATE_CONFIRMED
CANCELLED = ipb.EXPECTED_RETURN_STATE_CANCELLED
FEWER = ipb.RETURN_DIFFERENCE_KIND_FEWER
MORE = ipb.RETURN_DIFFERENCE_KIND_MORE
OTHER = ipb.RETURN_DIFFERENCE_KIND_OTHER_SKU
DAMAGED = ipb.RETURN_DIFFERENCE_KIND_DAMAGED
INITIAL = {"TEE": 10, "MUG": 6}


@pytest.fixture
async def shipped(kit):
    """Order o1 (gid g1) deducted 2 TEE from HZ1 and 6 MUG (5 from HZ1, 1 from GZ1)."""
    await kit.warehouse("HZ1", "Zhejiang", ["Shanghai"])
    await kit.warehouse("GZ1", "Guangdong")
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.set_stock("MUG", "HZ1", 5)
    await kit.set_stock("MUG", "GZ1", 1)
    await kit.try_reserve("g1", [("TEE", 2), ("MUG", 6)], "Zhejiang", order_id="o1")
    await kit.confirm("g1")
    return kit


async def books(kit) -> dict[str, Any]:
    """Every stock row (on hand, reserved, damaged) and the audit log's ids."""
    found: dict[str, Any] = {}
    for sku in INITIAL:
        availability = await kit.availability(sku)
        found[sku] = {
            w.warehouse_code: (w.on_hand, w.reserved, w.damaged) for w in availability.warehouses
        }
    found["audit"] = [e.id for e in await kit.audit()]
    return found


async def assert_conserved(kit, deducted: dict[str, int]) -> None:
    """on hand + deducted = initial + returned fit; damaged = returned damaged; and the
    audit log's moves add up to the rows, per SKU."""
    returned: dict[str, tuple[int, int]] = {}
    reply = await kit.stub.GetExpectedReturn(pb.GetExpectedReturnRequest(order_id="o1"))
    for expected in reply.expected_returns:
        for line in expected.lines:
            fit, broken = returned.get(line.sku, (0, 0))
            returned[line.sku] = (fit + line.restocked, broken + line.damaged)
    for sku, initial in INITIAL.items():
        availability = await kit.availability(sku)
        fit, broken = returned.get(sku, (0, 0))
        assert availability.on_hand + deducted[sku] == initial + fit, sku
        assert availability.damaged == broken, sku
        assert fit + broken <= deducted[sku], sku
        entries = await kit.audit(sku, page_size=1000)
        assert sum(e.on_hand_after - e.on_hand_before for e in entries) == availability.on_hand
        assert sum(e.damaged_after - e.damaged_before for e in entries) == availability.damaged


def differences(expected: ipb.ExpectedReturn) -> set[tuple[int, str, int]]:
    return {(d.kind, d.sku, d.quantity) for d in expected.differences}


def lines(expected: ipb.ExpectedReturn) -> dict[str, tuple[int, ...]]:
    """sku: (expected, received fit, received damaged, restocked, damaged, missing)."""
    return {
        line.sku: (
            line.expected_quantity,
            line.received_resellable,
            line.received_damaged,
            line.restocked,
            line.damaged,
            line.missing,
        )
        for line in expected.lines
    }


# ------------------------------------------------------------------------------ Try
async def test_try_records_the_goods_expected_back_with_the_warehouses_they_left(shipped) -> None:
    kit = shipped
    before = await books(kit)

    expected = await kit.expect_return("r1", [("TEE", 2), ("MUG", 3)])

    assert expected.state == EXPECTED
    assert (expected.order_id, expected.reservation_gid) == ("o1", "g1")
    sources = {line.sku: set(line.source_warehouse_codes) for line in expected.lines}
    assert sources == {"TEE": {"HZ1"}, "MUG": {"HZ1", "GZ1"}}
    assert differences(expected) == {(FEWER, "TEE", 2), (FEWER, "MUG", 3)}
    assert not expected.matches
    assert await kit.expected_return("r1") == expected
    after = await books(kit)
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }
    assert after["audit"] == before["audit"]  # expecting moves no stock


async def test_a_repeated_try_answers_the_first_and_records_nothing_more(shipped) -> None:
    kit = shipped
    first = await kit.expect_return("r1", [("TEE", 1)])

    again = await kit.expect_return("r1", [("TEE", 2), ("MUG", 1)])

    assert again == first
    refused = await kit.refused(kit.expect_return("r2", [("TEE", 2)]))
    assert (refused.reason, refused.metadata["returnable"]) == ("RETURN_EXCEEDS_DEDUCTED", "1")


async def test_cancel_before_try_is_an_empty_compensation_and_the_late_try_is_refused(
    shipped,
) -> None:
    kit = shipped

    reply = await kit.cancel_return("r1")

    assert not reply.HasField("expected_return")
    late = await kit.refused(kit.expect_return("r1", [("TEE", 1)]))
    assert (late.code, late.reason) == (PRECONDITION, "TRY_AFTER_CANCEL")
    missing = await kit.refused(kit.expected_return("r1"))
    assert (missing.code, missing.reason) == (
        grpc.StatusCode.NOT_FOUND,
        "EXPECTED_RETURN_NOT_FOUND",
    )
    never = await kit.refused(kit.confirm_return("r1"))
    assert (never.code, never.reason) == (PRECONDITION, "EXPECTED_RETURN_NOT_FOUND")


async def test_try_needs_the_orders_deducted_reservation(shipped) -> None:
    kit = shipped
    await kit.set_stock("CAP", "HZ1", 3)
    await kit.try_reserve("g2", [("CAP", 1)], order_id="o2")  # held, not paid

    unknown = await kit.refused(kit.expect_return("r1", [("TEE", 1)], reservation_gid="nope"))
    other_order = await kit.refused(kit.expect_return("r2", [("TEE", 1)], order_id="o9"))
    held = await kit.refused(
        kit.expect_return("r3", [("CAP", 1)], order_id="o2", reservation_gid="g2")
    )

    assert (unknown.code, unknown.reason) == (PRECONDITION, "RESERVATION_NOT_FOUND")
    assert other_order.reason == "RESERVATION_NOT_FOUND"
    assert (held.reason, held.metadata["state"]) == ("RESERVATION_NOT_CONFIRMED", "RESERVED")
    # A refused Try leaves no barrier row: its branch may be tried again.
    assert (await kit.expect_return("r1", [("TEE", 1)])).state == EXPECTED


async def test_a_return_never_expects_more_than_the_order_deducted_minus_earlier_returns(
    shipped,
) -> None:
    kit = shipped
    books_before = await books(kit)

    too_many = await kit.refused(kit.expect_return("r1", [("TEE", 3)]))
    not_sold = await kit.refused(kit.expect_return("r1", [("TEE", 1), ("CAP", 1)]))

    assert (too_many.code, too_many.reason) == (PRECONDITION, "RETURN_EXCEEDS_DEDUCTED")
    assert too_many.metadata == {"sku": "TEE", "requested": "3", "returnable": "2"}
    assert (not_sold.reason, not_sold.metadata["returnable"]) == ("RETURN_EXCEEDS_DEDUCTED", "0")
    assert await books(kit) == books_before

    await kit.expect_return("r1", [("TEE", 2), ("MUG", 4)])
    second = await kit.refused(kit.expect_return("r2", [("MUG", 3)]))
    assert second.metadata["returnable"] == "2"
    await kit.cancel_return("r1")  # a cancelled return claims nothing
    await kit.expect_return("r2", [("MUG", 6)])
    await kit.receive("r2", "HZ1", [("MUG", 4, FIT)])
    await kit.confirm_return("r2")  # 2 never came: they may still come with a later return
    assert (await kit.expect_return("r3", [("MUG", 2)])).state == EXPECTED
    over = await kit.refused(kit.expect_return("r4", [("MUG", 1)]))
    assert over.metadata["returnable"] == "0"


async def test_invalid_lines_are_refused_before_anything_is_written(shipped) -> None:
    kit = shipped
    before = await books(kit)

    doubled = await kit.refused(kit.expect_return("r1", [("TEE", 1), ("TEE", 1)]))
    zero = await kit.refused(kit.expect_return("r1", [("TEE", 0)]))
    too_long = await kit.refused(kit.expect_return("r1", [(f"S{i}", 1) for i in range(201)]))

    for err in (doubled, zero, too_long):
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert await books(kit) == before
    assert (await kit.expect_return("r1", [("TEE", 1)])).state == EXPECTED


# ------------------------------------------------------------------ receive, confirm
async def test_confirm_restocks_fit_units_on_hand_and_puts_damaged_ones_apart(shipped) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2), ("MUG", 3)])
    await kit.receive("r1", "HZ1", [("TEE", 1, FIT), ("TEE", 1, BROKEN)])
    received = await kit.receive("r1", "GZ1", [("MUG", 2, FIT)])
    assert differences(received) == {(DAMAGED, "TEE", 1), (FEWER, "MUG", 1)}

    confirmed = await kit.confirm_return("r1")

    assert confirmed.state == CONFIRMED
    assert lines(confirmed) == {"TEE": (2, 1, 1, 1, 1, 0), "MUG": (3, 2, 0, 2, 0, 1)}
    tee = await kit.availability("TEE")
    assert (tee.on_hand, tee.available, tee.damaged) == (9, 9, 1)
    hz1 = await kit.stock("TEE", "HZ1")
    assert (hz1.on_hand, hz1.available, hz1.damaged) == (9, 9, 1)
    assert await kit.levels("MUG") == {"HZ1": (0, 0), "GZ1": (2, 0)}  # where it was received
    entries = [e for e in await kit.audit() if e.action.startswith("return")]
    moves = {
        (e.action, e.sku, e.warehouse_code): (
            e.on_hand_before,
            e.on_hand_after,
            e.damaged_before,
            e.damaged_after,
        )
        for e in entries
    }
    assert moves == {
        ("return_damaged", "TEE", "HZ1"): (8, 8, 0, 1),  # (sku, warehouse, condition) order
        ("return", "TEE", "HZ1"): (8, 9, 1, 1),
        ("return", "MUG", "GZ1"): (0, 2, 0, 0),
        ("return_missing", "MUG", "HZ1"): (0, 0, 0, 0),
    }
    for entry in entries:
        assert entry.actor == "tcc:r1/inventory-01"
        assert "order o1" in entry.note and "return:r1:inventory-01" in entry.note
    await assert_conserved(kit, deducted={"TEE": 2, "MUG": 6})

    late_cancel = await kit.refused(kit.cancel_return("r1"))
    assert (late_cancel.code, late_cancel.reason) == (PRECONDITION, "RETURN_CONFIRMED")
    closed = await kit.refused(kit.receive("r1", "HZ1", [("TEE", 1, FIT)]))
    assert (closed.reason, closed.metadata["state"]) == ("RETURN_CLOSED", "CONFIRMED")


async def test_a_repeated_confirm_restocks_nothing_more(shipped) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2)])
    await kit.receive("r1", "HZ1", [("TEE", 2, FIT)])
    first = await kit.confirm_return("r1")
    after_first = await books(kit)

    again = await kit.confirm_return("r1")

    assert again == first
    assert await books(kit) == after_first
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}


async def test_ten_concurrent_confirms_restock_once(shipped) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2), ("MUG", 2)])
    await kit.receive("r1", "HZ1", [("TEE", 2, FIT), ("MUG", 1, BROKEN)])

    answers = await asyncio.gather(*(kit.confirm_return("r1") for _ in range(10)))

    assert len({answer.SerializeToString() for answer in answers}) == 1
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}
    assert (await kit.availability("MUG")).damaged == 1
    returns = [e for e in await kit.audit() if e.action in ("return", "return_damaged")]
    assert len(returns) == 2
    await assert_conserved(kit, deducted={"TEE": 2, "MUG": 6})


async def test_confirm_and_cancel_racing_on_one_branch_never_both_win(shipped) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2)])
    await kit.receive("r1", "HZ1", [("TEE", 2, FIT)])

    results = await asyncio.gather(
        *(kit.confirm_return("r1") for _ in range(5)),
        *(kit.cancel_return("r1") for _ in range(5)),
        return_exceptions=True,
    )

    final = await kit.expected_return("r1")
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    if final.state == CONFIRMED:
        assert await kit.levels("TEE") == {"HZ1": (10, 0)}
        assert {r.code() for r in refused} == {PRECONDITION} and len(refused) == 5
    else:
        assert final.state == CANCELLED
        assert await kit.levels("TEE") == {"HZ1": (8, 0)}
        assert len(refused) == 5
    await assert_conserved(kit, deducted={"TEE": 2, "MUG": 6})


async def test_cancel_releases_the_expectation_and_restocks_nothing(shipped) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2)])
    await kit.receive("r1", "HZ1", [("TEE", 2, FIT)])
    before = await books(kit)

    cancelled = (await kit.cancel_return("r1")).expected_return
    again = (await kit.cancel_return("r1")).expected_return

    assert cancelled.state == CANCELLED and again == cancelled
    assert await books(kit) == before
    refused = await kit.refused(kit.confirm_return("r1"))
    assert (refused.code, refused.reason) == (PRECONDITION, "RETURN_CANCELLED")
    await assert_conserved(kit, deducted={"TEE": 2, "MUG": 6})


async def test_a_receipt_that_does_not_match_is_answered_with_its_differences(shipped) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2), ("MUG", 2)])

    received = await kit.receive(
        "r1", "HZ1", [("TEE", 3, FIT), ("MUG", 1, BROKEN), ("CAP", 1, FIT)]
    )

    assert not received.matches
    assert differences(received) == {
        (MORE, "TEE", 1),
        (FEWER, "MUG", 1),
        (DAMAGED, "MUG", 1),
        (OTHER, "CAP", 1),
    }
    confirmed = await kit.confirm_return("r1")  # an agent approved it as it is
    assert lines(confirmed) == {"TEE": (2, 3, 0, 2, 0, 0), "MUG": (2, 0, 1, 0, 1, 1)}
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}  # the excess unit is left to the agent
    await assert_conserved(kit, deducted={"TEE": 2, "MUG": 6})


async def test_a_receipt_of_exactly_the_expected_goods_matches(shipped) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2), ("MUG", 2)])

    part = await kit.receive("r1", "HZ1", [("TEE", 2, FIT)])
    whole = await kit.receive("r1", "GZ1", [("MUG", 2, FIT)])

    assert not part.matches and differences(part) == {(FEWER, "MUG", 2)}
    assert whole.matches and list(whole.differences) == []
    assert [r.warehouse_code for r in whole.receipts] == ["HZ1", "GZ1"]


async def test_receive_is_idempotent_by_request_id(shipped) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2)])
    first = await kit.receive("r1", "HZ1", [("TEE", 1, FIT)], request_id="scan-1")

    again = await kit.receive("r1", "HZ1", [("TEE", 1, FIT)], request_id="scan-1")
    concurrent = await asyncio.gather(
        *(kit.receive("r1", "HZ1", [("TEE", 1, FIT)], request_id="scan-2") for _ in range(5))
    )
    reused = await kit.refused(kit.receive("r1", "HZ1", [("TEE", 2, FIT)], request_id="scan-1"))

    assert again == first and len(again.receipts) == 1
    assert {len(answer.receipts) for answer in concurrent} == {2}
    assert (reused.code, reused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")
    assert (await kit.expected_return("r1")).matches


async def test_receive_by_order_needs_exactly_one_open_return(shipped) -> None:
    kit = shipped
    none = await kit.refused(kit.receive("", "HZ1", [("TEE", 1, FIT)], order_id="o1"))
    await kit.expect_return("r1", [("TEE", 1)])

    received = await kit.receive("", "HZ1", [("TEE", 1, FIT)], order_id="o1")
    await kit.expect_return("r2", [("TEE", 1)])
    ambiguous = await kit.refused(kit.receive("", "HZ1", [("TEE", 1, FIT)], order_id="o1"))

    assert (none.code, none.reason) == (grpc.StatusCode.NOT_FOUND, "EXPECTED_RETURN_NOT_FOUND")
    assert received.gid == "r1" and received.matches
    assert (ambiguous.code, ambiguous.reason) == (PRECONDITION, "RETURN_AMBIGUOUS")
    assert ambiguous.metadata["gids"] == "r1,r2"


async def test_a_receipt_in_an_unknown_warehouse_is_refused_and_changes_nothing(shipped) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 1)])

    refused = await kit.refused(kit.receive("r1", "NOPE", [("TEE", 1, FIT)]))

    assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "WAREHOUSE_NOT_FOUND")
    assert list((await kit.expected_return("r1")).receipts) == []


# ------------------------------------------------------- restock and returns never both
async def test_a_reservation_with_a_return_cannot_be_restocked_as_unshipped(shipped) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 1)])

    refused = await kit.refused(kit.restock("g1"))

    assert (refused.code, refused.reason) == (PRECONDITION, "RESERVATION_RETURNED")
    assert (await kit.reservation("g1")).state == ipb.RESERVATION_STATE_CONFIRMED


async def test_a_restocked_reservation_expects_no_return(shipped) -> None:
    kit = shipped
    await kit.restock("g1")

    refused = await kit.refused(kit.expect_return("r1", [("TEE", 1)]))

    assert (refused.reason, refused.metadata["state"]) == ("RESERVATION_NOT_CONFIRMED", "RESTOCKED")


async def test_a_racing_restock_and_return_never_both_put_units_back(shipped) -> None:
    kit = shipped

    restock, expect = await asyncio.gather(
        kit.restock("g1"), kit.expect_return("r1", [("TEE", 2)]), return_exceptions=True
    )

    won = [r for r in (restock, expect) if not isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1


# ------------------------------------------------------------------------- events
async def test_each_step_of_a_return_emits_its_event_once(shipped, inventory) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2)])
    await kit.expect_return("r1", [("TEE", 2)])  # a repeat emits nothing
    await kit.receive("r1", "HZ1", [("TEE", 1, FIT), ("TEE", 1, BROKEN)], request_id="s1")
    await kit.receive("r1", "HZ1", [("TEE", 1, FIT), ("TEE", 1, BROKEN)], request_id="s1")
    await kit.confirm_return("r1")
    await kit.confirm_return("r1")
    await kit.cancel_return("r2")  # empty: nothing

    outbox = orm.outbox.outbox
    async with inventory.inventory.sessions() as session:
        rows = await session.execute(
            sa.select(outbox.c.aggregate_type, outbox.c.envelope).order_by(outbox.c.id)
        )
        envelopes = [(kind, EventEnvelope.FromString(raw)) for kind, raw in rows]
    returns = [env.type for kind, env in envelopes if kind == "return"]
    assert returns == ["ExpectedReturnChanged"] * 3
    tail = [env.type for kind, env in envelopes[-4:]]
    assert tail == [
        "ExpectedReturnChanged",
        "StockAdjusted",
        "StockAdjusted",
        "AvailabilityChanged",
    ]


# ------------------------------------------------------------ longer than the barrier
async def purge_barrier(inventory) -> None:
    """Every barrier row gone, as the purge leaves a return older than the keep time."""
    later = datetime.now(UTC) + timedelta(days=30)
    await BARRIER.purge(inventory.inventory.sessions, older_than=later)


async def test_a_return_waiting_longer_than_its_barrier_rows_is_still_confirmed_once(
    shipped, inventory
) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2)])
    await kit.receive("r1", "HZ1", [("TEE", 2, FIT)])
    await purge_barrier(inventory)

    confirmed = await kit.confirm_return("r1")
    again = await kit.confirm_return("r1")
    repeated_try = await kit.expect_return("r1", [("TEE", 2)])
    late_cancel = await kit.refused(kit.cancel_return("r1"))

    assert confirmed.state == CONFIRMED and again == confirmed and repeated_try == confirmed
    assert late_cancel.reason == "RETURN_CONFIRMED"
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}
    await assert_conserved(kit, deducted={"TEE": 2, "MUG": 6})


async def test_a_return_waiting_longer_than_its_barrier_rows_is_still_cancelled(
    shipped, inventory
) -> None:
    kit = shipped
    await kit.expect_return("r1", [("TEE", 2)])
    await purge_barrier(inventory)

    cancelled = (await kit.cancel_return("r1")).expected_return
    refused = await kit.refused(kit.confirm_return("r1"))

    assert cancelled.state == CANCELLED
    assert refused.reason == "RETURN_CANCELLED"
    assert (await kit.expect_return("r2", [("TEE", 2)])).state == EXPECTED  # claim released
