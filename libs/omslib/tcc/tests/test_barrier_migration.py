from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from omslib.db import create_engine, upgrade_schema
from omslib.tcc import barrier_table

ENV = """\
import sqlalchemy as sa
from omslib.db.migrations import run_env
from omslib.tcc import barrier_table

metadata = sa.MetaData()
barrier_table(metadata)
run_env(metadata)
"""

REVISION = """\
from alembic import op
from omslib.tcc.migration_v1 import create_barrier_table_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_barrier_table_v1(op)
"""


async def test_the_frozen_barrier_helper_creates_exactly_the_library_table(
    database_url: str, tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text(ENV)
    (migrations / "versions" / "0001_barrier.py").write_text(REVISION)
    engine = create_engine(database_url)
    try:
        await upgrade_schema(engine, migrations)
        metadata = sa.MetaData()
        barrier_table(metadata)
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()
    assert [d for d in diffs if "alembic_version" not in repr(d)] == []
