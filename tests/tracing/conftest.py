"""The whole stack as processes that export their spans to a real OTLP receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from oms_cli.stack import Stack
from stack_support import start_stack


@pytest.fixture
def traced_stack(
    tmp_path: Path,
    make_database_url: Callable[[str], str],
    redis_url: str,
    otlp_receiver,  # type: ignore[no-untyped-def]
) -> Iterator[Stack]:
    """Stopping it (``stack.stop()``, idempotent) flushes every span still batched."""
    stack = start_stack(
        tmp_path / "var",
        make_database_url,
        redis_url,
        extra_env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
    )
    try:
        yield stack
    finally:
        stack.stop()
