import re
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from omslib.db import create_engine, upgrade_schema
from omslib.events import consumer_tables
from omslib.outbox import outbox_tables

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"
ENV = """\
import sqlalchemy as sa
from omslib.db.migrations import run_env
from omslib.events import consumer_tables
from omslib.outbox import outbox_tables

metadata = sa.MetaData()
outbox_tables(metadata)
consumer_tables(metadata)
run_env(metadata)
"""


def documented_revision() -> str:
    text = DOC.read_text()
    block = text.split("<!-- events-migration:begin -->")[1].split("<!-- events-migration:end -->")[
        0
    ]
    code = re.search(r"```python\n(.*?)```", block, re.S)
    assert code is not None
    return code.group(1).replace('down_revision = "0002"', "down_revision = None")


async def test_the_documented_migration_creates_exactly_the_library_tables(
    database_url: str, tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text(ENV)
    (migrations / "versions" / "0003_events.py").write_text(documented_revision())
    engine = create_engine(database_url)
    try:
        await upgrade_schema(engine, migrations)
        metadata = sa.MetaData()
        outbox_tables(metadata)
        consumer_tables(metadata)
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()
    assert [d for d in diffs if not _is_alembic_version(d)] == []


def _is_alembic_version(diff: object) -> bool:
    return "alembic_version" in repr(diff)
