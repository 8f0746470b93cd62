"""TryReserveStock / ConfirmReserveStock / CancelReserveStock as a TCC participant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1 import inventory_service_pb2 as pb
from opentelemetry.trace import SpanKind

PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture
async def stocked(kit):
    await kit.warehouse("HZ1", "Zhejiang", ["Shanghai"])
    await kit.warehouse("GZ1", "Guangdong")
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.set_stock("MUG", "HZ1", 5)
    await kit.set_stock("MUG", "GZ1", 1)
    return kit


async def test_try_reserves_every_line(stocked) -> None:
    kit = stocked
    reservation = await kit.try_reserve("g1", [("TEE", 2), ("MUG", 3)], "Zhejiang", order_id="o1")

    assert reservation.state == ipb.RESERVATION_STATE_RESERVED
    assert (reservation.gid, reservation.branch_id, reservation.order_id) == (
        "g1",
        "inventory-01",
        "o1",
    )
    assert kit.placed(reservation) == [("TEE", "HZ1", 2), ("MUG", "HZ1", 3)]
    assert reservation.expire_time.ToDatetime(tzinfo=UTC) > datetime.now(UTC)
    assert await kit.levels("TEE") == {"HZ1": (10, 2)}
    got = await kit.stub.GetReservation(pb.GetReservationRequest(tcc=kit.tcc("g1")))
    assert got.reservation == reservation


async def test_not_enough_stock_for_one_line_reserves_nothing(stocked) -> None:
    kit = stocked
    before = (await kit.levels("TEE"), await kit.levels("MUG"), len(await kit.audit()))

    error = await kit.refused(kit.try_reserve("g1", [("TEE", 2), ("MUG", 7)], "Zhejiang"))

    assert (error.code, error.reason, error.domain) == (
        PRECONDITION,
        "INSUFFICIENT_STOCK",
        "inventory.oms",
    )
    assert error.metadata == {"sku": "MUG", "requested": "7", "available": "6"}
    assert (await kit.levels("TEE"), await kit.levels("MUG"), len(await kit.audit())) == before
    missing = await kit.refused(
        kit.stub.GetReservation(pb.GetReservationRequest(tcc=kit.tcc("g1")))
    )
    assert missing.code == grpc.StatusCode.NOT_FOUND


async def test_an_unknown_sku_is_refused_and_reserves_nothing(stocked) -> None:
    kit = stocked
    error = await kit.refused(kit.try_reserve("g1", [("TEE", 1), ("GHOST", 1)]))

    assert (error.code, error.reason, error.metadata["sku"]) == (
        PRECONDITION,
        "UNKNOWN_SKU",
        "GHOST",
    )
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}


async def test_a_refused_try_can_be_tried_again_once_stock_arrives(stocked) -> None:
    kit = stocked
    await kit.refused(kit.try_reserve("g1", [("TEE", 12)]))
    await kit.adjust("TEE", "HZ1", 5)

    reservation = await kit.try_reserve("g1", [("TEE", 12)])

    assert kit.placed(reservation) == [("TEE", "HZ1", 12)]


@pytest.mark.parametrize(
    ("case", "gid", "branch", "lines"),
    [
        ("no lines", "g1", "b1", []),
        ("zero quantity", "g1", "b1", [("TEE", 0)]),
        ("negative quantity", "g1", "b1", [("TEE", -2)]),
        ("duplicate sku", "g1", "b1", [("TEE", 1), ("TEE", 1)]),
        ("missing gid", "", "b1", [("TEE", 1)]),
        ("missing branch", "g1", "", [("TEE", 1)]),
        ("empty sku", "g1", "b1", [("", 1)]),
    ],
)
async def test_an_invalid_try_is_an_invalid_argument(stocked, case, gid, branch, lines) -> None:
    kit = stocked
    error = await kit.refused(kit.try_reserve(gid, lines, branch_id=branch))

    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}


async def test_an_expire_time_in_the_past_is_refused(stocked) -> None:
    kit = stocked
    past = Timestamp()
    past.FromDatetime(datetime.now(UTC) - timedelta(minutes=1))
    error = await kit.refused(
        kit.stub.TryReserveStock(
            pb.TryReserveStockRequest(
                tcc=kit.tcc("g1"), lines=[pb.ReserveLine(sku="TEE", quantity=1)], expire_time=past
            )
        )
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.metadata["field"] == "expire_time"


async def test_a_repeated_try_returns_the_first_reservation_unchanged(stocked) -> None:
    kit = stocked
    first = await kit.try_reserve("g1", [("TEE", 2)], "Zhejiang")

    again = await kit.try_reserve("g1", [("TEE", 2)], "Zhejiang")
    different = await kit.try_reserve("g1", [("TEE", 9), ("MUG", 1)], "Guangdong")

    assert again == first and different == first
    assert await kit.levels("TEE") == {"HZ1": (10, 2)}
    assert [e.action for e in await kit.audit("TEE")] == ["reserve", "set"]


async def test_confirm_deducts_the_reserved_stock_once(stocked) -> None:
    kit = stocked
    await kit.try_reserve("g1", [("TEE", 2), ("MUG", 6)], "Zhejiang")

    confirmed = await kit.confirm("g1")
    again = await kit.confirm("g1")

    assert confirmed.state == again.state == ipb.RESERVATION_STATE_CONFIRMED
    assert await kit.levels("TEE") == {"HZ1": (8, 0)}
    assert await kit.levels("MUG") == {"HZ1": (0, 0), "GZ1": (0, 0)}
    newest = (await kit.audit("TEE"))[0]
    assert (newest.action, newest.on_hand_before, newest.on_hand_after) == ("confirm", 10, 8)
    assert (newest.reserved_before, newest.reserved_after) == (2, 0)
    assert newest.actor == "tcc:g1/inventory-01" and "order-g1" in newest.note


async def test_cancel_releases_the_reserved_stock_once(stocked) -> None:
    kit = stocked
    await kit.try_reserve("g1", [("TEE", 4)])

    cancelled = await kit.cancel("g1")
    again = await kit.cancel("g1")

    assert cancelled.reservation.state == ipb.RESERVATION_STATE_CANCELLED
    assert again.reservation == cancelled.reservation
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}
    assert [e.action for e in await kit.audit("TEE")] == ["cancel", "reserve", "set"]
    newest = (await kit.audit("TEE"))[0]
    assert (newest.reserved_before, newest.reserved_after) == (4, 0)


async def test_a_cancel_without_a_try_is_an_empty_compensation(stocked) -> None:
    kit = stocked
    reply = await kit.cancel("g-none")
    again = await kit.cancel("g-none")

    assert not reply.HasField("reservation") and not again.HasField("reservation")
    assert [e.action for e in await kit.audit()] == ["set", "set", "set"]
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}


async def test_a_try_after_its_cancel_is_refused(stocked) -> None:
    kit = stocked
    await kit.cancel("g1")

    error = await kit.refused(kit.try_reserve("g1", [("TEE", 1)]))

    assert (error.code, error.reason) == (PRECONDITION, "TRY_AFTER_CANCEL")
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}
    other_branch = await kit.try_reserve("g1", [("TEE", 1)], branch_id="inventory-02")
    assert other_branch.state == ipb.RESERVATION_STATE_RESERVED


async def test_a_repeated_try_after_a_cancel_is_refused_too(stocked) -> None:
    kit = stocked
    await kit.try_reserve("g1", [("TEE", 1)])
    await kit.cancel("g1")

    error = await kit.refused(kit.try_reserve("g1", [("TEE", 1)]))

    assert error.reason == "TRY_AFTER_CANCEL"
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}


async def test_confirm_without_a_reservation_is_refused(stocked) -> None:
    kit = stocked
    error = await kit.refused(kit.confirm("g-none"))
    assert (error.code, error.reason) == (PRECONDITION, "RESERVATION_NOT_FOUND")


async def test_confirm_after_cancel_is_refused_and_changes_nothing(stocked) -> None:
    kit = stocked
    await kit.try_reserve("g1", [("TEE", 3)])
    await kit.cancel("g1")

    error = await kit.refused(kit.confirm("g1"))

    assert (error.code, error.reason) == (PRECONDITION, "RESERVATION_RELEASED")
    assert await kit.levels("TEE") == {"HZ1": (10, 0)}


async def test_cancel_after_confirm_is_refused_and_changes_nothing(stocked) -> None:
    kit = stocked
    await kit.try_reserve("g1", [("TEE", 3)])
    await kit.confirm("g1")

    error = await kit.refused(kit.cancel("g1"))

    assert (error.code, error.reason) == (PRECONDITION, "RESERVATION_CONFIRMED")
    assert await kit.levels("TEE") == {"HZ1": (7, 0)}
    assert (await kit.confirm("g1")).state == ipb.RESERVATION_STATE_CONFIRMED


async def test_tcc_calls_are_traced_with_the_branch_and_the_order(stocked, spans) -> None:
    kit = stocked
    spans.clear()
    await kit.try_reserve("g-span", [("TEE", 1)], order_id="o-span")
    await kit.confirm("g-span")

    attributes = {
        span.name.rsplit("/", 1)[-1]: dict(span.attributes or {})
        for span in spans.get_finished_spans()
        if span.kind is SpanKind.SERVER
        and span.name.startswith("/oms.inventory.v1.InventoryService/")
    }
    for method in ("TryReserveStock", "ConfirmReserveStock"):
        assert attributes[method]["oms.gid"] == "g-span"
        assert attributes[method]["oms.branch"] == "inventory-01"
        assert attributes[method]["oms.order_id"] == "o-span"
