"""The events a push causes carry its trace, and a consumer's span links back to it.

The whole stack runs as processes exporting to a real OTLP receiver; the events
are read from the real Redis streams the services' relays published to, and a
real ``EventConsumer`` (with its own tracer) handles the order's events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import redis
import sqlalchemy as sa
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.order_events_pb2 import OrderCreated
from oms_cli.stack import Stack
from omslib.db import create_engine, session_factory
from omslib.events import EventConsumer, ReceivedEvent, consumer_tables
from omslib.outbox import STREAM_INVENTORY, STREAM_ORDERS
from omslib.redis_conn import connect
from omslib.testing.polling import wait_until
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncSession
from stack_support import post_push, signed_shop_push

pytestmark = pytest.mark.e2e


def _envelopes(redis_url: str, stream: str) -> list[EventEnvelope]:
    client = redis.Redis.from_url(redis_url)
    try:
        entries = client.xrange(stream)
    finally:
        client.close()
    return [EventEnvelope.FromString(fields[b"envelope"]) for _, fields in entries]


def _trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1] if traceparent else ""


def test_a_push_events_carry_its_trace_and_a_consumer_links_to_it(
    traced_stack: Stack,
    make_database_url: Callable[[str], str],
    redis_url: str,
    otlp_receiver,  # type: ignore[no-untyped-def]
) -> None:
    stack = traced_stack
    try:
        body, headers = signed_shop_push("EVT-TRACE-1", [("TEE-WHITE-M", 1)])
        assert post_push(stack, body, headers).status_code == 202

        def created() -> EventEnvelope | None:
            for env in _envelopes(redis_url, STREAM_ORDERS):
                if env.type == "OrderCreated":
                    order = OrderCreated()
                    env.payload.Unpack(order)
                    if order.order.platform_order_id == "EVT-TRACE-1":
                        return env
            return None

        event = wait_until(created, within=60, what="OrderCreated on oms.orders")
        assert isinstance(event, EventEnvelope)

        def push_root() -> str | None:
            for s in otlp_receiver.spans():
                if s.service == "gateway" and not s.parent_span_id and "/webhooks/" in s.name:
                    return str(s.trace_id)
            return None

        trace_id = wait_until(push_root, within=30, what="the push's root span")
        assert _trace_id(event.traceparent) == trace_id
        assert event.source == "orders" and event.aggregate_type == "order"

        def reserved() -> list[EventEnvelope]:
            return [
                e
                for e in _envelopes(redis_url, STREAM_INVENTORY)
                if _trace_id(e.traceparent) == trace_id
            ]

        inventory_events = wait_until(reserved, within=60, what="inventory events of the push")
        assert isinstance(inventory_events, list)
        assert {"StockReservationChanged", "AvailabilityChanged"} <= {
            e.type for e in inventory_events
        }
        assert {e.source for e in inventory_events} == {"inventory"}

        links = asyncio.run(
            _consume_orders(redis_url, make_database_url("consumer"), until=event.event_id)
        )
        assert (trace_id, event.event_id) in links
    finally:
        stack.stop()


async def _consume_orders(redis_url: str, database_url: str, *, until: str) -> set[tuple[str, str]]:
    """Handle oms.orders with a real consumer; (linked trace id, event id) of its spans."""
    metadata = sa.MetaData()
    tables = consumer_tables(metadata)
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    client = connect(redis_url)
    handled: list[str] = []

    async def handle(session: AsyncSession, event: ReceivedEvent) -> None:
        handled.append(event.envelope.event_id)

    consumer = EventConsumer(
        client,
        session_factory(engine),
        tables,
        group="trace-test",
        name="trace-test-1",
        streams=[STREAM_ORDERS],
        handlers={"OrderCreated": handle, "OrderStateChanged": handle},
        tracer_provider=provider,
    )
    try:
        await consumer.ensure_groups()
        for _ in range(50):  # each poll blocks at most block_ms for new entries
            await consumer.poll_once()
            if until in handled:
                break
    finally:
        await client.aclose()
        await engine.dispose()
    links: set[tuple[str, str]] = set()
    for span in spans.get_finished_spans():
        event_id = str((span.attributes or {}).get("messaging.message.id", ""))
        for link in span.links:
            links.add((format(link.context.trace_id, "032x"), event_id))
    return links
