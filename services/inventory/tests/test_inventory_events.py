"""Inventory's changes leave as events on oms.inventory, written in the change's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_events_pb2 import (
    AvailabilityChanged,
    StockAdjusted,
    StockReservationChanged,
)
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1 import inventory_service_pb2 as pb
from oms_inventory import bootstrap
from oms_inventory.adapters import orm
from oms_inventory.config import Settings
from omslib.outbox import STREAM_INVENTORY
from omslib.redis_conn import EmbeddedRedis, connect
from omslib.telemetry import context_from_traceparent, current_traceparent
from omslib.testing.net import free_port
from omslib.testing.polling import eventually
from opentelemetry import trace


async def unsent(running: bootstrap.Running) -> int:
    table = orm.outbox.outbox
    c = table.c
    async with running.inventory.sessions() as session:
        query = sa.select(sa.func.count()).select_from(table).where(c.sent_at.is_(None))
        return int((await session.execute(query)).scalar_one())


async def all_published(running: bootstrap.Running) -> bool:
    return await unsent(running) == 0


async def stream_envelopes(redis_url: str) -> list[EventEnvelope]:
    client = connect(redis_url)
    try:
        entries = await client.xrange(STREAM_INVENTORY)
    finally:
        await client.aclose()
    return [EventEnvelope.FromString(fields[b"envelope"]) for _, fields in entries]


def describe(envelope: EventEnvelope) -> tuple[Any, ...]:
    """(aggregate, sequence, type, what changed) of one event, for comparing whole streams."""
    aggregate = f"{envelope.aggregate_type}/{envelope.aggregate_id}"
    head = (aggregate, envelope.sequence, envelope.type)
    if envelope.type == "StockReservationChanged":
        reservation = StockReservationChanged()
        envelope.payload.Unpack(reservation)
        state = ipb.ReservationState.Name(reservation.reservation.state)
        return (*head, state.removeprefix("RESERVATION_STATE_"))
    if envelope.type == "StockAdjusted":
        adjusted = StockAdjusted()
        envelope.payload.Unpack(adjusted)
        return (*head, adjusted.entry.action, adjusted.entry.on_hand_after)
    changed = AvailabilityChanged()
    envelope.payload.Unpack(changed)
    return (*head, changed.availability.available)


def by_aggregate(events: list[EventEnvelope]) -> dict[str, list[tuple[Any, ...]]]:
    """Each aggregate's events in stream order: (sequence, type, what changed)."""
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for envelope in events:
        aggregate, *rest = describe(envelope)
        grouped.setdefault(aggregate, []).append(tuple(rest))
    return grouped


async def test_tcc_calls_and_stock_changes_emit_their_events_in_order_once(
    inventory: bootstrap.Running, kit: Any, redis_url: str
) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.try_reserve("g1", [("TEE", 3)])
    await kit.try_reserve("g1", [("TEE", 3)])  # repeated by the coordinator: no new event
    await kit.confirm("g1")
    await kit.confirm("g1")
    await kit.try_reserve("g2", [("TEE", 2)])
    await kit.cancel("g2")
    await kit.cancel("g2")
    await kit.cancel("g3")  # empty compensation: nothing changed, nothing said
    await kit.adjust("TEE", "HZ1", -1, reason=ipb.ADJUSTMENT_REASON_DAMAGED)

    await eventually(lambda: all_published(inventory))
    events = await stream_envelopes(redis_url)
    # Order holds per aggregate (the relay publishes aggregates, not the whole stream, in order).
    assert by_aggregate(events) == {
        "sku/TEE": [
            (1, "StockAdjusted", "set", 10),
            (2, "AvailabilityChanged", 10),
            (3, "AvailabilityChanged", 7),
            # Confirm turns reserved units into a deduction: available stays 7.
            (4, "AvailabilityChanged", 5),
            (5, "AvailabilityChanged", 7),
            (6, "StockAdjusted", "adjust", 6),
            (7, "AvailabilityChanged", 6),
        ],
        "reservation/g1": [
            (1, "StockReservationChanged", "RESERVED"),
            (2, "StockReservationChanged", "CONFIRMED"),
        ],
        "reservation/g2": [
            (1, "StockReservationChanged", "RESERVED"),
            (2, "StockReservationChanged", "CANCELLED"),
        ],
    }
    assert {e.source for e in events} == {"inventory"}
    assert len({e.event_id for e in events}) == len(events)


async def test_a_restock_emits_its_reservation_and_availability_events_once(
    inventory: bootstrap.Running, kit: Any, redis_url: str
) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("TEE", "HZ1", 10)
    await kit.try_reserve("g1", [("TEE", 3)])
    await kit.confirm("g1")
    await kit.restock("g1")
    await kit.restock("g1")  # a repeat: nothing changed, nothing said

    await eventually(lambda: all_published(inventory))
    events = by_aggregate(await stream_envelopes(redis_url))
    assert events["reservation/g1"] == [
        (1, "StockReservationChanged", "RESERVED"),
        (2, "StockReservationChanged", "CONFIRMED"),
        (3, "StockReservationChanged", "RESTOCKED"),
    ]
    assert events["sku/TEE"] == [
        (1, "StockAdjusted", "set", 10),
        (2, "AvailabilityChanged", 10),
        (3, "AvailabilityChanged", 7),  # the Try (the Confirm moves no available unit)
        (4, "AvailabilityChanged", 10),  # the restock: the 3 units are sellable again
    ]


async def test_the_event_names_the_trace_of_the_change(
    inventory: bootstrap.Running, kit: Any, redis_url: str
) -> None:
    await kit.warehouse("HZ1")
    with trace.get_tracer("test").start_as_current_span("operator receives goods") as span:
        await kit.stub.SetStock(
            pb.SetStockRequest(
                sku="TEE",
                request_id="set-tee-1",
                warehouse_code="HZ1",
                on_hand=4,
                reason=ipb.ADJUSTMENT_REASON_RECEIVED,
                actor="operator:amy",
            ),
            metadata=(("traceparent", current_traceparent() or ""),),
        )
    await eventually(lambda: all_published(inventory))
    events = await stream_envelopes(redis_url)
    assert [e.type for e in events] == ["StockAdjusted", "AvailabilityChanged"]
    wanted = span.get_span_context().trace_id
    for envelope in events:
        linked = trace.get_current_span(context_from_traceparent(envelope.traceparent))
        assert linked.get_span_context().trace_id == wanted


async def test_the_expiry_backstop_emits_the_release(clocked: Any, redis_url: str) -> None:
    running, kit, clock = clocked
    await kit.warehouse("HZ1")
    await kit.set_stock("TEE", "HZ1", 5)
    expire = kit.in_future(minutes=0)
    expire.FromDatetime(clock.now() + timedelta(minutes=15))
    await kit.try_reserve("g1", [("TEE", 2)], expire_time=expire)
    clock.advance(timedelta(minutes=30))
    assert await running.inventory.expiry.run_once() == 1

    await eventually(lambda: all_published(running))
    events = by_aggregate(await stream_envelopes(redis_url))
    assert events["reservation/g1"][-1] == (2, "StockReservationChanged", "EXPIRED")
    assert events["sku/TEE"][-1] == (4, "AvailabilityChanged", 5)


async def test_changes_commit_while_redis_is_down_and_their_events_follow_when_it_returns(
    settings_for: Callable[..., Settings],
    make_database_url: Callable[[str], str],
    tmp_path: Path,
    kit_for: Any,
) -> None:
    # A server we start later on a port chosen now: until then, Redis is unreachable.
    port = free_port()
    server = EmbeddedRedis(tmp_path / "redis", port=port)
    url = f"redis://127.0.0.1:{port}/0"
    settings = settings_for(
        make_database_url("inventory"),
        OMS_REDIS_URL=url,
    )
    running = await bootstrap.start(settings)
    try:
        async with kit_for(running) as kit:
            await kit.warehouse("HZ1")
            await kit.set_stock("TEE", "HZ1", 10)
            await kit.try_reserve("g1", [("TEE", 4)])
        relay = running.inventory.relay
        await eventually(lambda: relay.failed_passes >= 2)
        assert await unsent(running) == 4

        assert server.start() == url
        await eventually(lambda: all_published(running))
        events = await stream_envelopes(url)
        assert by_aggregate(events) == {
            "sku/TEE": [
                (1, "StockAdjusted", "set", 10),
                (2, "AvailabilityChanged", 10),
                (3, "AvailabilityChanged", 6),
            ],
            "reservation/g1": [(1, "StockReservationChanged", "RESERVED")],
        }
    finally:
        await running.stop()
        server.stop()


async def test_migrations_build_exactly_the_tables_of_the_orm(
    inventory: bootstrap.Running,
) -> None:
    async with inventory.inventory.engine.connect() as conn:
        diffs = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), orm.metadata)
        )
    assert [d for d in diffs if "alembic_version" not in repr(d)] == []
