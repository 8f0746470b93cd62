"""Revision 0002 moves the coordinator log onto omslib.tcc's tables, keeping old rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from oms_orders import bootstrap
from oms_orders.adapters.orm import TCC_TABLES, metadata
from omslib.db import create_engine, session_factory
from omslib.db.migrations import alembic_config
from omslib.tcc import Phase, TransactionState, TransactionStore


def _upgrade(url_engine, target: str):  # type: ignore[no-untyped-def]
    config = alembic_config(bootstrap.MIGRATIONS)

    def run(connection: sa.Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, target)

    return run


async def test_0002_keeps_logged_transactions_and_matches_the_model(
    make_database_url: Callable[[str], str],
) -> None:
    engine = create_engine(make_database_url("orders"))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade(engine, "0001"))
            now = datetime(2026, 1, 1, tzinfo=UTC)
            await conn.execute(
                sa.text(
                    "INSERT INTO tcc_transactions (gid, kind, subject, state, next_attempt_time,"
                    " reason, create_time, update_time) VALUES ('G1', 'order.place', 'orders/1',"
                    " 'CANCELLING', :now, 'x', :now, :now)"
                ),
                {"now": now},
            )
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade(engine, "head"))

            def diff(connection: sa.Connection) -> list[object]:
                return compare_metadata(MigrationContext.configure(connection), metadata)

            tcc_diff = [
                d for d in await conn.run_sync(diff) if "tcc_" in str(d) or "payment_due" in str(d)
            ]
            assert tcc_diff == []
        async with session_factory(engine)() as session:
            tx = await TransactionStore(TCC_TABLES).get(session, "G1")
        assert tx is not None
        assert (tx.state, tx.phase, tx.attempts, tx.version) == (
            TransactionState.CANCELLING,
            Phase.CANCEL,
            0,
            0,
        )
    finally:
        await engine.dispose()
