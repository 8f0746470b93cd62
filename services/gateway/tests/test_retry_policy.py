from __future__ import annotations

from datetime import timedelta

from oms_gateway.domain.retry_policy import RetryPolicy


def upper_bound(_: float, high: float) -> float:
    return high


def test_delay_ceiling_doubles_from_half_a_second_up_to_five_minutes() -> None:
    policy = RetryPolicy()
    ceilings = [policy.delay(n, upper_bound).total_seconds() for n in range(1, 13)]
    assert ceilings == [0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_full_jitter_draws_between_zero_and_the_ceiling() -> None:
    policy = RetryPolicy()
    seen: list[tuple[float, float]] = []

    def record(low: float, high: float) -> float:
        seen.append((low, high))
        return low

    assert policy.delay(3, record) == timedelta(0)
    assert seen == [(0.0, 2.0)]


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=20)
    assert not policy.exhausted(19)
    assert policy.exhausted(20)


def test_a_downstream_outage_caps_the_wait_at_a_few_seconds() -> None:
    policy = RetryPolicy(outage_cap_seconds=5.0)
    ceilings = [policy.delay(n, upper_bound, outage=True).total_seconds() for n in (1, 4, 5, 40)]
    assert ceilings == [0.5, 4, 5, 5]
    assert policy.delay(40, upper_bound).total_seconds() == 300
