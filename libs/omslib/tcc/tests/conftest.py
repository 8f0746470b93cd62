from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from omslib.db import create_engine, session_factory
from omslib.tcc import CoordinatorTables, barrier_table, coordinator_tables
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


@dataclass
class Db:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: CoordinatorTables
    barrier: sa.Table
    stock: sa.Table


@pytest.fixture
async def db(make_database_url: Callable[[str], str]) -> AsyncIterator[Db]:
    metadata = sa.MetaData()
    tables = coordinator_tables(metadata)
    barrier = barrier_table(metadata)
    stock = sa.Table(
        "stock",
        metadata,
        sa.Column("sku", sa.String(32), primary_key=True),
        sa.Column("available", sa.Integer, nullable=False),
        sa.Column("reserved", sa.Integer, nullable=False),
        sa.Column("deducted", sa.Integer, nullable=False),
    )
    engine = create_engine(make_database_url("tcc"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield Db(engine, session_factory(engine), tables, barrier, stock)
    await engine.dispose()
