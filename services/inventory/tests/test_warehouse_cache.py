"""The Try's cache of active warehouses: TTL, invalidation, and no stale refill."""

from __future__ import annotations

from oms_inventory.adapters.warehouse_repository import WarehouseCache
from oms_inventory.domain.warehouse import Warehouse

HZ1 = (Warehouse(code="HZ1", display_name="", province="Zhejiang", city="", active=True),)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_the_ttl_only() -> None:
    time = FakeTime()
    cache = WarehouseCache(ttl=5.0, monotonic=time)
    assert cache.get() is None
    cache.put(cache.generation, HZ1)
    time.now += 4.9
    assert cache.get() == HZ1
    time.now += 0.1
    assert cache.get() is None


def test_invalidate_drops_the_entry() -> None:
    cache = WarehouseCache(ttl=5.0, monotonic=FakeTime())
    cache.put(cache.generation, HZ1)
    cache.invalidate()
    assert cache.get() is None


def test_a_read_begun_before_an_invalidation_is_not_stored() -> None:
    cache = WarehouseCache(ttl=5.0, monotonic=FakeTime())
    generation = cache.generation  # a Try starts reading the table...
    cache.invalidate()  # ...an UpsertWarehouse commits meanwhile...
    cache.put(generation, HZ1)  # ...the Try's (possibly older) list is not kept
    assert cache.get() is None


def test_ttl_zero_disables_the_cache() -> None:
    cache = WarehouseCache(ttl=0.0, monotonic=FakeTime())
    cache.put(cache.generation, HZ1)
    assert cache.get() is None
