"""Concurrent Try calls against the real server never oversell."""

from __future__ import annotations

import asyncio

import grpc


async def _outcomes(calls) -> tuple[int, list[str]]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    refusals = []
    for result in results:
        if isinstance(result, grpc.aio.AioRpcError):
            refusals.append(result.code().name)
        elif isinstance(result, BaseException):
            raise result
    return len(results) - len(refusals), refusals


async def test_fifty_concurrent_tries_for_seven_units_reserve_exactly_seven(kit) -> None:
    await kit.warehouse("HZ1", "Zhejiang")
    await kit.warehouse("GZ1", "Guangdong")
    await kit.set_stock("HOT", "HZ1", 4)
    await kit.set_stock("HOT", "GZ1", 3)

    won, refusals = await _outcomes(
        [kit.try_reserve(f"g{n}", [("HOT", 1)], "Zhejiang") for n in range(50)]
    )

    assert won == 7
    assert refusals == ["FAILED_PRECONDITION"] * 43
    total = await kit.availability("HOT")
    assert (total.on_hand, total.reserved, total.available) == (7, 7, 0)
    assert all(level.available >= 0 for level in total.warehouses)
    assert len([e for e in await kit.audit("HOT") if e.action == "reserve"]) == 7


async def test_concurrent_orders_over_the_same_skus_in_any_order_do_not_deadlock(kit) -> None:
    await kit.warehouse("HZ1", "Zhejiang")
    await kit.set_stock("A", "HZ1", 10)
    await kit.set_stock("B", "HZ1", 10)

    calls = [
        kit.try_reserve(f"g{n}", [("A", 1), ("B", 1)] if n % 2 else [("B", 1), ("A", 1)])
        for n in range(30)
    ]
    won, refusals = await _outcomes(calls)

    assert won == 10 and set(refusals) == {"FAILED_PRECONDITION"}
    assert await kit.levels("A") == {"HZ1": (10, 10)}
    assert await kit.levels("B") == {"HZ1": (10, 10)}


async def test_racing_try_and_cancel_of_one_branch_never_leave_stock_locked(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("A", "HZ1", 100)

    for n in range(10):
        await asyncio.gather(
            kit.try_reserve(f"race{n}", [("A", 1)]), kit.cancel(f"race{n}"), return_exceptions=True
        )

    assert await kit.levels("A") == {"HZ1": (100, 0)}


async def test_concurrent_repeats_of_one_try_reserve_once(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("A", "HZ1", 100)

    won, refusals = await _outcomes([kit.try_reserve("same", [("A", 3)]) for _ in range(20)])

    assert (won, refusals) == (20, [])
    assert await kit.levels("A") == {"HZ1": (100, 3)}


async def test_concurrent_adjustments_all_apply_and_are_audited(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("A", "HZ1", 0)

    won, refusals = await _outcomes([kit.adjust("A", "HZ1", 1) for _ in range(25)])

    assert (won, refusals) == (25, [])
    assert await kit.levels("A") == {"HZ1": (25, 0)}
    afters = sorted(e.on_hand_after for e in await kit.audit("A") if e.action == "adjust")
    assert afters == list(range(1, 26))
