import asyncio
import contextlib

from omslib.keyed_locks import KeyedLocks


async def test_work_on_one_key_runs_one_at_a_time_while_other_keys_run_alongside() -> None:
    locks = KeyedLocks()
    inside: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}

    async def work(key: str) -> None:
        async with locks.hold(key):
            inside[key] += 1
            most[key] = max(most[key], inside[key])
            await asyncio.sleep(0.01)
            inside[key] -= 1

    await asyncio.gather(*(work(k) for k in "ababab"))
    assert most == {"a": 1, "b": 1}
    assert len(locks) == 0  # nothing kept once nobody holds or waits


async def test_a_failing_holder_releases_the_key() -> None:
    locks = KeyedLocks()

    async def fail() -> None:
        async with locks.hold("k"):
            raise RuntimeError("boom")

    with contextlib.suppress(RuntimeError):
        await fail()
    async with asyncio.timeout(1):
        async with locks.hold("k"):
            pass
    assert len(locks) == 0
