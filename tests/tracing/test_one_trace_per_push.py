"""One platform push gives one trace whose spans come from gateway, orders and
inventory, with correct parents, read from a real OTLP receiver that the
services really exported to."""

from __future__ import annotations

import pytest
from oms_cli.stack import Stack
from omslib.testing.polling import wait_until
from stack_support import post_push, signed_shop_push

pytestmark = pytest.mark.e2e


def test_one_push_is_one_trace_across_gateway_orders_and_inventory(
    traced_stack: Stack,
    otlp_receiver,  # type: ignore[no-untyped-def]
) -> None:
    stack = traced_stack
    try:
        body, headers = signed_shop_push("TRACE-1", [("TEE-WHITE-M", 1)])
        reply = post_push(stack, body, headers)
        assert reply.status_code == 202, reply.text

        def push_trace() -> list | None:  # type: ignore[type-arg]
            roots = [
                s
                for s in otlp_receiver.spans()
                if s.service == "gateway" and not s.parent_span_id and "/webhooks/" in s.name
            ]
            if not roots:
                return None
            trace = [s for s in otlp_receiver.spans() if s.trace_id == roots[0].trace_id]
            services = {s.service for s in trace}
            has_reserve = any(
                s.service == "inventory" and "TryReserveStock" in s.name for s in trace
            )
            return trace if {"gateway", "orders", "inventory"} <= services and has_reserve else None

        first_seen = wait_until(
            push_trace, within=30, what="spans from gateway, orders and inventory"
        )
    finally:
        # A graceful stop flushes every span still batched in the services.
        stack.stop()
    trace = [s for s in otlp_receiver.spans() if s.trace_id == first_seen[0].trace_id]

    by_id = {s.span_id: s for s in trace}
    roots = [s for s in trace if not s.parent_span_id]
    assert len(roots) == 1, [(s.service, s.name) for s in roots]
    assert roots[0].service == "gateway"
    orphans = [
        (s.service, s.name) for s in trace if s.parent_span_id and s.parent_span_id not in by_id
    ]
    assert not orphans, f"spans whose parent is not in the trace: {orphans}"

    def ancestry(span) -> list[str]:  # type: ignore[no-untyped-def]
        chain = []
        while span.parent_span_id:
            span = by_id[span.parent_span_id]
            chain.append(span.service)
        return chain

    reserve = next(s for s in trace if s.service == "inventory" and "TryReserveStock" in s.name)
    sync = next(
        s
        for s in trace
        if s.service == "orders" and "SyncPlatformOrder" in s.name and s.kind == "SPAN_KIND_SERVER"
    )
    # inventory's server span sits under orders, which sits under the gateway's delivery.
    assert "orders" in ancestry(reserve)
    assert by_id[sync.parent_span_id].service == "gateway"
    assert ancestry(reserve)[-1] == "gateway"
    assert sync.attributes.get("oms.platform")
    assert any(s.attributes.get("oms.order_id") for s in trace if s.service == "orders")
    assert any(s.attributes.get("oms.gid") for s in trace if s.service == "inventory")
