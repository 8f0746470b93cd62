"""The expiry backstop releases reservations past deadline + grace; a late confirm is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(when: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


async def test_expired_reservations_are_released_and_a_late_confirm_refused(clocked) -> None:
    running, kit, clock = clocked
    await kit.warehouse("HZ1", "Zhejiang")
    await kit.set_stock("TEE", "HZ1", 5)
    deadline = START + timedelta(minutes=30)
    await kit.try_reserve("g1", [("TEE", 2)], "Zhejiang", expire_time=at(deadline))
    await kit.try_reserve("g2", [("TEE", 1)], "Zhejiang", expire_time=at(deadline))
    await kit.confirm("g2")
    assert await kit.levels("TEE") == {"HZ1": (4, 2)}

    clock.set(deadline + timedelta(seconds=30))  # inside the grace period
    assert await running.inventory.expiry.run_once() == 0
    clock.set(deadline + timedelta(seconds=61))
    assert await running.inventory.expiry.run_once() == 1
    assert await kit.levels("TEE") == {"HZ1": (4, 0)}

    late = await kit.refused(kit.confirm("g1"))
    assert (late.code, late.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "RESERVATION_RELEASED")
    assert await kit.levels("TEE") == {"HZ1": (4, 0)}
    # a cancel afterwards is a harmless repeat; a retried Try is refused (no hanging)
    await kit.cancel("g1")
    again = await kit.refused(kit.try_reserve("g1", [("TEE", 2)], "Zhejiang"))
    assert again.reason == "TRY_AFTER_CANCEL"
    assert await kit.levels("TEE") == {"HZ1": (4, 0)}
