"""Bad stock changes are refused with the right code and reason, and change nothing."""

from __future__ import annotations

import grpc
import pytest
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1 import inventory_service_pb2 as pb

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
NOT_FOUND = grpc.StatusCode.NOT_FOUND
RECEIVED = ipb.ADJUSTMENT_REASON_RECEIVED

CASES = {
    "negative on hand": (
        "SetStock",
        {"on_hand": -1, "reason": RECEIVED},
        INVALID,
        "INVALID_ARGUMENT",
    ),
    "set without a reason": (
        "SetStock",
        {"on_hand": 5, "reason": ipb.ADJUSTMENT_REASON_UNSPECIFIED},
        INVALID,
        "INVALID_ARGUMENT",
    ),
    "manual set without a note": (
        "SetStock",
        {"on_hand": 5, "reason": ipb.ADJUSTMENT_REASON_MANUAL},
        INVALID,
        "INVALID_ARGUMENT",
    ),
    "set below reserved": (
        "SetStock",
        {"on_hand": 1, "reason": RECEIVED},
        PRECONDITION,
        "BELOW_RESERVED",
    ),
    "zero delta": ("AdjustStock", {"delta": 0, "reason": RECEIVED}, INVALID, "INVALID_ARGUMENT"),
    "adjust without a reason": (
        "AdjustStock",
        {"delta": 3, "reason": ipb.ADJUSTMENT_REASON_UNSPECIFIED},
        INVALID,
        "INVALID_ARGUMENT",
    ),
    "adjust with an unknown reason number": (
        "AdjustStock",
        {"delta": 3, "reason": 99},
        INVALID,
        "INVALID_ARGUMENT",
    ),
    "adjust below available": (
        "AdjustStock",
        {"delta": -9, "reason": ipb.ADJUSTMENT_REASON_DAMAGED},
        PRECONDITION,
        "INSUFFICIENT_STOCK",
    ),
    "unknown warehouse": (
        "SetStock",
        {"on_hand": 5, "reason": RECEIVED, "warehouse_code": "NOPE"},
        NOT_FOUND,
        "WAREHOUSE_NOT_FOUND",
    ),
    "empty sku": (
        "AdjustStock",
        {"delta": 1, "reason": RECEIVED, "sku": ""},
        INVALID,
        "INVALID_ARGUMENT",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_bad_stock_change_is_refused_and_changes_nothing(kit, case: str) -> None:
    method, fields, code, reason = CASES[case]
    await kit.warehouse("HZ1", "Zhejiang")
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.try_reserve("g1", [("TEE", 4)])
    before = (await kit.levels("TEE"), len(await kit.audit()))
    request_type = pb.SetStockRequest if method == "SetStock" else pb.AdjustStockRequest
    request = request_type(
        **{
            "sku": "TEE",
            "warehouse_code": "HZ1",
            "actor": "operator:t",
            "request_id": f"bad-{method}",
            **fields,
        }
    )

    error = await kit.refused(getattr(kit.stub, method)(request))

    assert (error.code, error.reason, error.domain) == (code, reason, "inventory.oms")
    assert (await kit.levels("TEE"), len(await kit.audit())) == before


async def test_removing_more_than_available_names_the_sku_and_the_numbers(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.try_reserve("g1", [("TEE", 4)])

    error = await kit.refused(kit.adjust("TEE", "HZ1", -7))

    assert error.reason == "INSUFFICIENT_STOCK"
    assert error.metadata == {"sku": "TEE", "requested": "7", "available": "6"}


async def test_removing_exactly_what_is_available_is_allowed(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.try_reserve("g1", [("TEE", 4)])

    level = await kit.adjust("TEE", "HZ1", -6, reason=ipb.ADJUSTMENT_REASON_TRANSFER)

    assert (level.on_hand, level.reserved, level.available) == (4, 4, 0)


async def test_an_unknown_sku_is_not_found_with_its_reason(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("TEE", "HZ1", 1)

    by_availability = await kit.refused(
        kit.stub.GetAvailability(pb.GetAvailabilityRequest(skus=["TEE", "GHOST"]))
    )
    by_stock = await kit.refused(kit.stock("GHOST", "HZ1"))

    for error in (by_availability, by_stock):
        assert (error.code, error.reason) == (NOT_FOUND, "UNKNOWN_SKU")
        assert error.metadata["sku"] == "GHOST"


async def test_an_unknown_warehouse_is_not_found(kit) -> None:
    error = await kit.refused(kit.stock("TEE", "NOPE"))
    assert (error.code, error.reason) == (NOT_FOUND, "WAREHOUSE_NOT_FOUND")


async def test_availability_needs_at_least_one_sku(kit) -> None:
    error = await kit.refused(kit.stub.GetAvailability(pb.GetAvailabilityRequest()))
    assert error.code == INVALID
