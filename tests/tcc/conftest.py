"""Stacks tuned for the TCC fault tests (short leases and retry intervals)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from oms_cli.stack import Stack
from stack_support import start_stack

FAST_TCC = {
    "OMS_ORDERS_TCC_LEASE_SECONDS": "3",
    "OMS_ORDERS_TCC_RETRY_BASE_SECONDS": "0.2",
    "OMS_ORDERS_TCC_MAX_ATTEMPTS": "12",
    "OMS_ORDERS_RECOVERY_INTERVAL_SECONDS": "0.5",
    "OMS_ORDERS_INVENTORY_TIMEOUT_SECONDS": "2",
}


@pytest.fixture
def tcc_stack(
    tmp_path: Path, make_database_url: Callable[[str], str], redis_url: str
) -> Iterator[Stack]:
    running = start_stack(tmp_path / "var", make_database_url, redis_url, extra_env=FAST_TCC)
    try:
        yield running
    finally:
        running.stop()
