from datetime import UTC, datetime, timedelta

import pytest
from omslib.clock import Clock, FakeClock, SystemClock


def test_system_clock_is_utc_aware() -> None:
    clock: Clock = SystemClock()
    assert clock.now().tzinfo is UTC


def test_fake_clock_moves_only_when_advanced() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    clock = FakeClock(start)
    assert clock.now() == start  # not the wall clock's time, however long ago it started
    clock.advance(timedelta(minutes=15))
    assert clock.now() == datetime(2025, 3, 1, 0, 15, tzinfo=UTC)


def test_fake_clock_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        FakeClock(datetime(2025, 1, 1))
