"""Fixtures for cross-service tests: the whole stack as real processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from oms_cli.stack import Stack
from stack_support import start_stack


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    make_module_database_url: Callable[[str], str],
    redis_server_url: str,
) -> Iterator[Stack]:
    """One running stack shared by the tests of a module (starting one takes seconds)."""
    running = start_stack(
        tmp_path_factory.mktemp("var"), make_module_database_url, redis_server_url
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def fresh_stack(
    tmp_path: Path, make_database_url: Callable[[str], str], redis_url: str
) -> Iterator[Stack]:
    """A stack of its own, for tests that kill or reconfigure processes."""
    running = start_stack(tmp_path / "var", make_database_url, redis_url)
    try:
        yield running
    finally:
        running.stop()
