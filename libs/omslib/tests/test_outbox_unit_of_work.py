from datetime import UTC, datetime

from oms.events.v1.inventory_events_pb2 import AvailabilityChanged
from omslib.clock import FakeClock
from omslib.outbox import STREAM_INVENTORY, OutboxNotifier, OutboxUnitOfWork
from omslib.testing.events_harness import OUTBOX, Sessions


class CountingNotifier(OutboxNotifier):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def notify(self) -> None:
        self.calls += 1
        super().notify()


async def write_one(uow: OutboxUnitOfWork) -> None:
    await uow.add_event(
        stream=STREAM_INVENTORY,
        payload=AvailabilityChanged(),
        source="test",
        aggregate_type="sku",
        aggregate_id="TEE",
        clock=FakeClock(datetime(2025, 1, 1, tzinfo=UTC)),
    )


async def test_a_commit_that_wrote_events_wakes_the_relay_once(sessions: Sessions) -> None:
    notifier = CountingNotifier()
    async with OutboxUnitOfWork(sessions, OUTBOX, notifier) as uow:
        await write_one(uow)
        await write_one(uow)
        await uow.commit()
        await uow.commit()  # nothing written since the last commit
    assert notifier.calls == 1


async def test_a_commit_without_events_or_a_rollback_does_not_wake_it(
    sessions: Sessions,
) -> None:
    notifier = CountingNotifier()
    async with OutboxUnitOfWork(sessions, OUTBOX, notifier) as uow:
        await uow.commit()
    async with OutboxUnitOfWork(sessions, OUTBOX, notifier) as uow:
        await write_one(uow)  # left without commit: rolled back
    async with OutboxUnitOfWork(sessions, OUTBOX, notifier) as uow:
        await write_one(uow)
        await uow.rollback()
        await uow.commit()  # nothing left to publish
    async with OutboxUnitOfWork(sessions, OUTBOX, notifier) as uow:
        await uow.commit()
    assert notifier.calls == 0
