"""Fixtures for gateway fault tests (helpers in fault_support.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gateway_faults.fault_support import PG_BIN, PrivatePostgres, fault_stack
from oms_cli.stack import Stack


@pytest.fixture
def stack_for_faults(
    tmp_path: Path, make_database_url: Callable[[str], str], redis_url: str
) -> Iterator[Stack]:
    stack = fault_stack(tmp_path / "var", make_database_url, redis_url)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists() or not shutil.which("runuser"):
        pytest.skip("needs /usr/local/bin/initdb and pg_ctl (and runuser when run as root)")
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
