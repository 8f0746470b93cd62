"""SyncPlatformOrder tags its server span and wraps the Try call in a child span."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

Fn = Any


def _named(spans: InMemorySpanExporter, fragment: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if fragment in s.name]


async def test_sync_spans_carry_order_platform_gid_and_branch(
    spans: InMemorySpanExporter, sync: Fn, make_snapshot: Fn, put_stock: Fn
) -> None:
    await put_stock("TEE", 10)

    order = (await sync(make_snapshot("S-1", [("TEE", 1)]))).order

    server = [s for s in _named(spans, "SyncPlatformOrder") if s.kind == trace.SpanKind.SERVER]
    assert len(server) == 1
    attributes = dict(server[0].attributes or {})
    assert attributes["oms.platform"] == "shop"
    assert attributes["oms.order_id"] == order.order_id
    assert attributes["oms.gid"] == order.gid
    (tried,) = _named(spans, "tcc.try inventory-01")
    (round_,) = [s for s in spans.get_finished_spans() if s.name == "tcc.try"]
    assert round_.parent is not None and round_.parent.span_id == server[0].context.span_id
    assert tried.parent is not None and tried.parent.span_id == round_.context.span_id
    assert dict(tried.attributes or {})["oms.branch"] == "inventory-01"
    assert dict(tried.attributes or {})["oms.gid"] == order.gid
    reserve_client = [
        s for s in _named(spans, "TryReserveStock") if s.kind == trace.SpanKind.CLIENT
    ]
    assert reserve_client and reserve_client[0].parent is not None
    assert reserve_client[0].parent.span_id == tried.context.span_id
