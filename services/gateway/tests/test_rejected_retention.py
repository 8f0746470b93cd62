"""Refused pushes: bounded metadata only, a retention purge in small batches, and the
migration that trims rows kept whole by earlier versions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from oms_gateway import bootstrap
from oms_gateway.adapters.orm import rejected_pushes
from oms_gateway.adapters.repository import RejectedPushRepository
from oms_gateway.domain.inbox import RawPush, RejectedPush
from oms_gateway.service_layer.rejected_retention import RejectedRetention
from omslib.clock import FakeClock
from omslib.db import UnitOfWork, create_engine, session_factory, upgrade_schema
from omslib.db.migrations import alembic_config

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_a_refused_push_keeps_bounded_metadata_of_a_hostile_request() -> None:
    headers = {f"x-{n}-" + "n" * 200: "v" * 10_000 for n in range(100)}
    push = RawPush("shop", headers, b"b" * 1_000_000)
    kept = RejectedPush.of(
        push,
        id="r1",
        reason="INVALID_SIGNATURE",
        message="m" * 10_000,
        source="203.0.113.9",
        received_at=NOW,
    )
    assert (kept.body_bytes, kept.body_sha256) == (1_000_000, hashlib.sha256(push.body).hexdigest())
    assert len(kept.header_names) == 16 and all(len(n) == 64 for n in kept.header_names)
    assert len(kept.message) == 500
    assert len(repr(kept)) < 3_000


async def test_the_purge_deletes_only_rows_past_retention_in_batches(
    make_database_url: Callable[[str], str],
) -> None:
    engine = create_engine(make_database_url("gateway"))
    try:
        await upgrade_schema(engine, bootstrap.MIGRATIONS)
        sessions = session_factory(engine)
        ages = [timedelta(days=d) for d in (30, 20, 15, 14, 13, 1)] + [timedelta(days=40)] * 5
        async with sessions() as session:
            repo = RejectedPushRepository(session)
            for n, age in enumerate(ages):
                await repo.add(
                    RejectedPush.of(
                        RawPush("shop", {}, b"x"),
                        id=f"r{n:02d}",
                        reason="INVALID_SIGNATURE",
                        message="",
                        source=None,
                        received_at=NOW - age - timedelta(seconds=1),
                    )
                )
            await session.commit()
        retention = RejectedRetention(
            lambda: UnitOfWork(sessions),
            FakeClock(NOW),
            keep=timedelta(days=14),
            every_seconds=3600,
            batch_size=3,
        )
        assert await retention.purge() == 9  # 30, 20, 15, 14 days and the five of 40
        async with engine.connect() as conn:
            left = (await conn.execute(sa.select(rejected_pushes.c.id))).scalars().all()
        assert sorted(left) == ["r04", "r05"]  # 13 days and 1 day old
        assert await retention.purge() == 0
    finally:
        await engine.dispose()


async def test_migration_0004_trims_rows_kept_whole_before(
    make_database_url: Callable[[str], str],
) -> None:
    engine = create_engine(make_database_url("gateway"))
    body = b'{"secret": "' + b"z" * 500_000 + b'"}'
    config = alembic_config(bootstrap.MIGRATIONS)

    def upgrade_to(target: str) -> Callable[[sa.Connection], None]:
        def run(connection: sa.Connection) -> None:
            config.attributes["connection"] = connection
            command.upgrade(config, target)

        return run

    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to("0003"))
            for n in range(3):
                await conn.execute(
                    sa.text(
                        "INSERT INTO rejected_pushes (id, platform, reason, message, headers,"
                        " body, received_at) VALUES (:id, 'shop', 'INVALID_SIGNATURE', :message,"
                        " :headers, :body, :at)"
                    ),
                    {
                        "id": f"old{n}",
                        "message": "m" * 2_000,
                        "headers": '{"authorization": "Bearer hunter2", "x-big": "'
                        + "h" * 1000
                        + '"}',
                        "body": body,
                        "at": NOW,
                    },
                )
        await upgrade_schema(engine, bootstrap.MIGRATIONS)
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(rejected_pushes))).all()
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("rejected_pushes")}
            )
        assert "body" not in columns and "headers" not in columns
        assert len(rows) == 3
        for row in rows:
            assert (row.body_bytes, row.body_sha256) == (
                len(body),
                hashlib.sha256(body).hexdigest(),
            )
            assert list(row.header_names) == ["authorization", "x-big"]
            assert len(row.message) == 500
            assert "hunter2" not in repr(tuple(row)) and "zzzz" not in repr(tuple(row))
    finally:
        await engine.dispose()
