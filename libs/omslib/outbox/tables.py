"""Outbox tables, added to a service's own ``MetaData`` and created by its own migration.

``outbox_tables(metadata)`` returns three tables:

- ``outbox``: one row per event, written in the transaction of the change it
  describes; ``sent_at`` is set by the relay once the event is in Redis.
- ``outbox_sequences``: the last sequence number per aggregate. Writers bump it
  with an upsert, which also holds the aggregate's row lock until commit, so one
  aggregate's events commit in sequence order.
- ``outbox_leases``: which relay replica is publishing which aggregate, until
  when. Writers never touch it, so relays never block business transactions.

A service's migration creates them with the frozen
``omslib.outbox.migration_v1.create_outbox_tables_v1``; a change here needs a new
frozen helper and a new migration (the snippet is in ``docs/events.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from omslib.db.leases import LeaseRows
from omslib.db.types import BigSerial, UtcDateTime


@dataclass(frozen=True)
class OutboxTables:
    outbox: sa.Table
    sequences: sa.Table
    leases: sa.Table


def outbox_tables(metadata: sa.MetaData, *, prefix: str = "outbox") -> OutboxTables:
    """Define the outbox tables in ``metadata`` (a service's ``adapters/orm.py`` calls this)."""
    outbox = sa.Table(
        prefix,
        metadata,
        sa.Column("id", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(26), nullable=False, unique=True),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("aggregate_type", sa.String(64), nullable=False),
        sa.Column("aggregate_id", sa.String(128), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint(
            "aggregate_type", "aggregate_id", "sequence", name=f"uq_{prefix}_aggregate_sequence"
        ),
        # The relay's scan: unsent rows in insertion order.
        sa.Index(f"ix_{prefix}_pending", "sent_at", "id"),
    )
    sequences = sa.Table(
        f"{prefix}_sequences",
        metadata,
        sa.Column("aggregate_type", sa.String(64), primary_key=True),
        sa.Column("aggregate_id", sa.String(128), primary_key=True),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
    )
    leases = sa.Table(
        f"{prefix}_leases",
        metadata,
        sa.Column("aggregate_type", sa.String(64), primary_key=True),
        sa.Column("aggregate_id", sa.String(128), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("lease_until", UtcDateTime(), nullable=False),
    )
    return OutboxTables(outbox, sequences, leases)


def aggregate_leases(leases: sa.Table) -> LeaseRows:
    """The ``outbox_leases`` table as leases keyed by (aggregate_type, aggregate_id)."""
    return LeaseRows.on(leases, ("aggregate_type", "aggregate_id"))
