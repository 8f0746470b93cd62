from datetime import timedelta

import pytest
from omslib.retry import Backoff, retrying


def highest(_: float, high: float) -> float:
    return high


def lowest(low: float, _: float) -> float:
    return low


def test_the_ceiling_doubles_from_first_up_to_the_cap() -> None:
    backoff = Backoff(first=0.5, cap=300)
    assert [backoff.ceiling(n) for n in range(1, 13)] == [
        0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300
    ]  # fmt: skip


def test_no_failures_yet_waits_like_the_first() -> None:
    assert Backoff(first=1, cap=10).ceiling(0) == 1


def test_without_jitter_the_wait_is_the_ceiling() -> None:
    assert Backoff(first=1, cap=60, factor=3).delay(3) == timedelta(seconds=9)


def test_full_jitter_draws_between_zero_and_the_ceiling() -> None:
    seen: list[tuple[float, float]] = []

    def record(low: float, high: float) -> float:
        seen.append((low, high))
        return high / 2

    assert Backoff(first=0.5, cap=300, full_jitter=True).seconds(3, record) == 1.0
    assert seen == [(0.0, 2.0)]


def test_a_spread_draws_around_the_ceiling() -> None:
    backoff = Backoff(first=1, cap=300, spread=0.2)
    assert backoff.seconds(3, lowest) == pytest.approx(3.2)
    assert backoff.seconds(3, highest) == pytest.approx(4.8)


def test_the_floor_keeps_a_full_jitter_draw_from_zero() -> None:
    assert Backoff(first=1, cap=8, full_jitter=True, floor=0.05).seconds(1, lowest) == 0.05


async def test_retrying_waits_by_the_policy_and_reraises_the_last_failure() -> None:
    slept: list[float] = []
    calls = 0

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    with pytest.raises(ConnectionError, match="3"):
        async for attempt in retrying(
            Backoff(first=1, cap=60), attempts=3, retry_on=ConnectionError, sleep=sleep
        ):
            with attempt:
                calls += 1
                raise ConnectionError(str(calls))
    assert calls == 3
    assert slept == [1.0, 2.0]


async def test_retrying_does_not_retry_other_errors() -> None:
    calls = 0

    async def sleep(seconds: float) -> None:
        raise AssertionError("no wait expected")

    with pytest.raises(ValueError):
        async for attempt in retrying(
            Backoff(first=1, cap=60), attempts=3, retry_on=ConnectionError, sleep=sleep
        ):
            with attempt:
                calls += 1
                raise ValueError("permanent")
    assert calls == 1
