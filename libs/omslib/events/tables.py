"""Tables a consumer keeps in its own database, added to the service's ``MetaData``.

- ``processed_events``: (consumer group, event id) of every event handled; written
  in the same transaction as the handler's effect, so a duplicate is skipped.
- ``parked_events``: events whose handler failed ``max_attempts`` times, with the
  error, so they stop blocking the stream and an operator can look and replay.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from omslib.db.types import UtcDateTime


@dataclass(frozen=True)
class ConsumerTables:
    processed: sa.Table
    parked: sa.Table


def consumer_tables(metadata: sa.MetaData, *, prefix: str = "") -> ConsumerTables:
    """Define the consumer tables in ``metadata`` (a service's ``adapters/orm.py`` calls this)."""
    processed = sa.Table(
        f"{prefix}processed_events",
        metadata,
        sa.Column("consumer_group", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(26), primary_key=True),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
        sa.Index(f"ix_{prefix}processed_events_at", "processed_at"),
    )
    parked = sa.Table(
        f"{prefix}parked_events",
        metadata,
        sa.Column("consumer_group", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("parked_at", UtcDateTime(), nullable=False),
    )
    return ConsumerTables(processed, parked)
