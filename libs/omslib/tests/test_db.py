import asyncio
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from omslib.db import UnitOfWork, create_engine, normalize_url, session_factory, upgrade_schema
from omslib.db.engine import instrument_engine
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/x.db", "sqlite+aiosqlite:///var/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_normalize_url_picks_async_drivers(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://h/db", "nonsense", "postgresql+psycopg2://h/db"])
def test_normalize_url_rejects_unsupported(url: str) -> None:
    with pytest.raises(ValueError, match="database URL"):
        normalize_url(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url)
    async with eng.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield eng
    await eng.dispose()


async def test_sqlite_engine_creates_folder_and_sets_pragmas(tmp_path: Path) -> None:
    eng = create_engine(f"sqlite:///{tmp_path}/nested/dir/app.db")
    try:
        async with eng.connect() as conn:
            pragmas = {
                name: (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
        assert pragmas == {
            "journal_mode": "wal",
            "busy_timeout": 30000,
            "foreign_keys": 1,
            "synchronous": 1,
        }
        assert (tmp_path / "nested" / "dir" / "app.db").exists()
        instrument_engine(eng)  # a second instrumentation is harmless
    finally:
        await eng.dispose()


async def _names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(items.c.name).order_by(items.c.id))).scalars())


async def test_unit_of_work_persists_only_on_commit(engine: AsyncEngine) -> None:
    uow = UnitOfWork(session_factory(engine))
    async with uow:
        await uow.session.execute(items.insert().values(name="kept"))
        await uow.commit()
    async with uow:
        await uow.session.execute(items.insert().values(name="dropped"))
    assert await _names(engine) == ["kept"]


async def test_unit_of_work_rolls_back_on_exception(engine: AsyncEngine) -> None:
    uow = UnitOfWork(session_factory(engine))
    with pytest.raises(RuntimeError):
        async with uow:
            await uow.session.execute(items.insert().values(name="boom"))
            raise RuntimeError("boom")
    assert await _names(engine) == []
    with pytest.raises(RuntimeError, match="outside"):
        _ = uow.session


def _write_migrations(root: Path) -> Path:
    """A throwaway service migrations folder with a 5-line env.py and two revisions."""
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(
        "from omslib.db.migrations import run_env\n"
        "from sqlalchemy import MetaData\n\n"
        "run_env(MetaData())\n"
    )
    (root / "script.py.mako").write_text("")
    (root / "versions" / "0001_items.py").write_text(
        textwrap.dedent(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "0001"
            down_revision = None

            def upgrade() -> None:
                op.create_table(
                    "items",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(50), nullable=False),
                )
            """
        )
    )
    (root / "versions" / "0002_sku.py").write_text(
        textwrap.dedent(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "0002"
            down_revision = "0001"

            def upgrade() -> None:
                with op.batch_alter_table("items") as batch:
                    batch.add_column(sa.Column("sku", sa.String(20), nullable=True))
                    batch.create_unique_constraint("uq_items_sku", ["sku"])
            """
        )
    )
    return root


async def _schema(engine: AsyncEngine) -> tuple[set[str], set[str], str]:
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        columns = await conn.run_sync(lambda c: inspect(c).get_columns("items"))
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    return tables, {c["name"] for c in columns}, str(version)


async def test_upgrade_schema_applies_all_revisions_once(
    tmp_path: Path, make_database_url: Callable[[str], str]
) -> None:
    script_location = _write_migrations(tmp_path / "svc" / "migrations")
    eng = create_engine(make_database_url("migrate"))
    try:
        await upgrade_schema(eng, script_location)
        await upgrade_schema(eng, script_location)  # already at head: no-op
        tables, columns, version = await _schema(eng)
    finally:
        await eng.dispose()
    assert tables == {"alembic_version", "items"}
    assert columns == {"id", "name", "sku"}
    assert version == "0002"


_REPLICA = """
import asyncio, sys
from omslib.db import create_engine, upgrade_schema

async def main() -> None:
    engine = create_engine(sys.argv[1])
    try:
        await upgrade_schema(engine, sys.argv[2])
    finally:
        await engine.dispose()

asyncio.run(main())
"""


async def test_concurrent_replicas_upgrade_without_conflict(
    tmp_path: Path, make_database_url: Callable[[str], str]
) -> None:
    script_location = _write_migrations(tmp_path / "svc" / "migrations")
    url = make_database_url("replicas")
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _REPLICA,
            url,
            str(script_location),
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    results = [await p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err.decode() for _, err in results]
    eng = create_engine(url)
    try:
        _, columns, version = await _schema(eng)
    finally:
        await eng.dispose()
    assert columns == {"id", "name", "sku"}
    assert version == "0002"


async def test_concurrent_upgrades_in_one_process_are_serialised(
    tmp_path: Path, make_database_url: Callable[[str], str]
) -> None:
    script_location = _write_migrations(tmp_path / "svc" / "migrations")
    engines = [create_engine(make_database_url(f"inproc{i}")) for i in range(2)]
    try:
        await asyncio.gather(*(upgrade_schema(e, script_location) for e in engines))
        versions = [(await _schema(e))[2] for e in engines]
    finally:
        for eng in engines:
            await eng.dispose()
    assert versions == ["0002", "0002"]
