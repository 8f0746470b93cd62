"""SetStock/AdjustStock change stock with a reason and write an audit entry each time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1 import inventory_service_pb2 as pb
from omslib.telemetry import current_traceparent
from opentelemetry import trace


async def test_set_then_adjust_are_audited_with_before_and_after(kit) -> None:
    await kit.warehouse("HZ1", "Zhejiang")

    await kit.set_stock(
        "TEE", "HZ1", 10, reason=ipb.ADJUSTMENT_REASON_RECEIVED, note="PO-1", actor="operator:amy"
    )
    level = await kit.adjust(
        "TEE", "HZ1", -3, reason=ipb.ADJUSTMENT_REASON_DAMAGED, note="torn", actor="operator:bo"
    )

    assert (level.on_hand, level.reserved, level.available) == (7, 0, 7)
    newest, oldest = await kit.audit("TEE")
    assert (oldest.action, oldest.reason, oldest.note, oldest.actor) == (
        "set",
        ipb.ADJUSTMENT_REASON_RECEIVED,
        "PO-1",
        "operator:amy",
    )
    assert (oldest.on_hand_before, oldest.on_hand_after) == (0, 10)
    assert (newest.action, newest.reason, newest.actor) == (
        "adjust",
        ipb.ADJUSTMENT_REASON_DAMAGED,
        "operator:bo",
    )
    assert (newest.on_hand_before, newest.on_hand_after) == (10, 7)
    assert (newest.reserved_before, newest.reserved_after) == (0, 0)
    assert newest.warehouse_code == "HZ1" and newest.id and newest.id != oldest.id
    assert abs(newest.time.ToDatetime(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=1)


async def test_get_stock_and_availability_read_per_warehouse_and_total(kit) -> None:
    await kit.warehouse("HZ1", "Zhejiang")
    await kit.warehouse("GZ1", "Guangdong")
    await kit.set_stock("MUG", "HZ1", 5)
    await kit.set_stock("MUG", "GZ1", 8)
    await kit.try_reserve("g1", [("MUG", 2)], "Zhejiang")

    one = await kit.stock("MUG", "HZ1")
    total = await kit.availability("MUG")

    assert (one.on_hand, one.reserved, one.available) == (5, 2, 3)
    assert (total.on_hand, total.reserved, total.available) == (13, 2, 11)
    assert [(w.warehouse_code, w.available) for w in total.warehouses] == [("GZ1", 8), ("HZ1", 3)]


async def test_a_known_sku_reads_zero_in_a_warehouse_that_never_held_it(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.warehouse("GZ1")
    await kit.set_stock("MUG", "HZ1", 5)

    level = await kit.stock("MUG", "GZ1")

    assert (level.sku, level.warehouse_code, level.on_hand, level.available) == ("MUG", "GZ1", 0, 0)


async def test_a_repeated_request_id_returns_the_level_without_applying_again(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("CAP", "HZ1", 10, request_id="load-1")

    first = await kit.adjust("CAP", "HZ1", 5, request_id="recv-1")
    await kit.adjust("CAP", "HZ1", -1, request_id="dmg-1")
    again = await kit.adjust("CAP", "HZ1", 5, request_id="recv-1")
    reset = await kit.set_stock("CAP", "HZ1", 10, request_id="load-1")

    assert first.on_hand == 15
    assert again.on_hand == 14 and reset.on_hand == 14
    assert [e.action for e in await kit.audit("CAP")] == ["adjust", "adjust", "set"]


async def test_a_request_id_reused_for_another_change_is_refused(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("CAP", "HZ1", 10, request_id="r-1")

    error = await kit.refused(kit.set_stock("MUG", "HZ1", 4, request_id="r-1"))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "REQUEST_ID_REUSED"


async def test_the_audit_entry_names_the_trace_that_made_the_change(kit, spans) -> None:
    await kit.warehouse("HZ1")

    with trace.get_tracer("test").start_as_current_span("operator changes stock") as span:
        # Propagated by hand in case no client instrumentation is installed in this process.
        await kit.stub.SetStock(
            pb.SetStockRequest(
                sku="TEE",
                request_id="set-tee-1",
                warehouse_code="HZ1",
                on_hand=3,
                reason=ipb.ADJUSTMENT_REASON_COUNT_CORRECTION,
                actor="operator:amy",
            ),
            metadata=(("traceparent", current_traceparent() or ""),),
        )

    (entry,) = await kit.audit("TEE")
    assert entry.trace_id == trace.format_trace_id(span.get_span_context().trace_id)


async def test_the_audit_log_pages_newest_first_with_page_tokens(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("TEE", "HZ1", 1)
    for _ in range(6):
        await kit.adjust("TEE", "HZ1", 1)
    await kit.set_stock("OTHER", "HZ1", 1)

    seen: list[int] = []
    token = ""
    pages = 0
    while True:
        reply = await kit.stub.ListStockAudit(
            pb.ListStockAuditRequest(sku="TEE", page_size=3, page_token=token)
        )
        seen += [e.on_hand_after for e in reply.entries]
        pages += 1
        token = reply.next_page_token
        if not token:
            break

    assert seen == [7, 6, 5, 4, 3, 2, 1]
    assert pages == 3
    assert len(await kit.audit()) == 8


async def test_the_audit_log_filters_by_time(kit) -> None:
    await kit.warehouse("HZ1")
    await kit.set_stock("TEE", "HZ1", 1)
    later = Timestamp()
    later.FromDatetime(datetime.now(UTC) + timedelta(hours=1))

    assert len(await kit.audit("TEE")) == 1
    assert await kit.audit("TEE", since=later) == []


async def test_a_page_token_not_issued_by_the_service_is_refused(kit) -> None:
    error = await kit.refused(
        kit.stub.ListStockAudit(pb.ListStockAuditRequest(page_token="not-a-token"))
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_PAGE_TOKEN"
