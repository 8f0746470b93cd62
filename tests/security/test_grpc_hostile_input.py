"""Hostile gRPC requests: each answers INVALID_ARGUMENT with field violations, changes
nothing, and never INTERNAL or UNKNOWN, whatever size or shape the input has."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import grpc.aio
import pytest
from google.rpc import error_details_pb2, status_pb2
from oms.inventory.v1 import inventory_pb2, inventory_service_pb2, inventory_service_pb2_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.type.v1 import money_pb2
from omslib.ids import new_id
from security_support import Pair, call_raw, every_method, put_stock, running_pair, sample_snapshot

INT64_MAX = 2**63 - 1
#: Answers stay far below gRPC's 8 KiB trailer limit whatever the request held.
MAX_DETAILS = 2048


@pytest.fixture
async def pair(make_database_url: Callable[[str], str], redis_url: str) -> AsyncIterator[Pair]:
    async with running_pair(make_database_url, redis_url, {}, {}) as running:
        yield running


@pytest.fixture
async def channels(pair: Pair) -> AsyncIterator[tuple[grpc.aio.Channel, grpc.aio.Channel]]:
    async with (
        grpc.aio.insecure_channel(pair.addr("orders")) as orders,
        grpc.aio.insecure_channel(pair.addr("inventory")) as inventory,
    ):
        await put_stock(inventory, "TEE-M", 10)
        yield orders, inventory


def bad_request_fields(err: grpc.aio.AioRpcError) -> list[str]:
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    return [v.field for v in bad.field_violations]
    return []


async def refused(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    err = raised.value
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert len(err.details() or "") < MAX_DETAILS
    return err


def _add_lines(count: int) -> Callable[[Any], None]:
    def add(snap: Any) -> None:
        for i in range(count):
            snap.lines.add(sku=f"S{i}", quantity=1)

    return add


HOSTILE_SNAPSHOTS: dict[str, tuple[dict[str, Any], str]] = {
    "order id with a path": ({"platform_order_id": "../x"}, "snapshot.platform_order_id"),
    "order id with a slash": ({"platform_order_id": "A/B"}, "snapshot.platform_order_id"),
    "order id with NUL": ({"platform_order_id": "A\x00B"}, "snapshot.platform_order_id"),
    "order id of a megabyte": (
        {"platform_order_id": "A" * 1_000_000},
        "snapshot.platform_order_id",
    ),
    "sku of a million characters": ({"line__sku": "S" * 1_000_000}, "snapshot.lines[0].sku"),
    "zero quantity": ({"line__quantity": 0}, "snapshot.lines[0].quantity"),
    "huge quantity": ({"line__quantity": 2**31 - 1}, "snapshot.lines[0].quantity"),
    "buyer name of a megabyte": ({"buyer__name": "n" * 1_000_000}, "snapshot.buyer.name"),
    "ten thousand lines": ({"x": _add_lines(10_000)}, "snapshot.lines"),
    "currency zz": ({"total__currency_code": "zz"}, "snapshot.total.currency_code"),
    "total of int64 max": ({"total__minor_units": INT64_MAX}, "snapshot.total.minor_units"),
    "negative total": ({"total__minor_units": -1}, "snapshot.total.minor_units"),
    "version of int64 max": ({"version": INT64_MAX}, "snapshot.version"),
    "created in 2099": ({"create_time__seconds": 4_070_908_800}, "snapshot.create_time"),
    "created in year 9999": ({"create_time__seconds": 253_402_300_799}, "snapshot.create_time"),
    "seconds of 10^12": ({"update_time__seconds": 10**12}, "snapshot.update_time"),
    "negative nanos": ({"update_time__nanos": -1}, "snapshot.update_time"),
    "created before 2000": ({"create_time__seconds": 0}, "snapshot.create_time"),
    "unknown platform number": ({"platform": 999}, "snapshot.platform"),
    "no platform": ({"platform": 0}, "snapshot.platform"),
}


def _apply(snap: Any, changes: dict[str, Any]) -> None:
    for path, value in changes.items():
        target: Any = snap
        *parents, leaf = path.split("__")
        for part in parents:
            target = target.lines[0] if part == "line" else getattr(target, part)
        if callable(value):
            value(target)
        else:
            setattr(target, leaf, value)


async def orders_stored(orders: grpc.aio.Channel) -> int:
    stub = orders_service_pb2_grpc.OrdersServiceStub(orders)
    reply = await stub.ListOrders(orders_service_pb2.ListOrdersRequest(page_size=100), timeout=10)
    return len(reply.orders)


async def stock_of(inventory: grpc.aio.Channel, sku: str) -> tuple[int, int]:
    stub = inventory_service_pb2_grpc.InventoryServiceStub(inventory)
    reply = await stub.GetAvailability(
        inventory_service_pb2.GetAvailabilityRequest(skus=[sku]), timeout=10
    )
    return reply.availabilities[0].on_hand, reply.availabilities[0].reserved


@pytest.mark.parametrize("case", list(HOSTILE_SNAPSHOTS))
async def test_a_hostile_snapshot_is_refused_with_its_field_and_stores_nothing(
    channels: tuple[grpc.aio.Channel, grpc.aio.Channel], case: str
) -> None:
    orders, inventory = channels
    changes, field = HOSTILE_SNAPSHOTS[case]
    snap = sample_snapshot(f"H{new_id()}", "TEE-M", 1)
    _apply(snap, changes)
    before = await stock_of(inventory, "TEE-M")

    err = await refused(
        orders_service_pb2_grpc.OrdersServiceStub(orders).SyncPlatformOrder(
            orders_service_pb2.SyncPlatformOrderRequest(
                request_id=f"shop:{new_id()}", snapshot=snap
            ),
            timeout=15,
        )
    )

    assert field in bad_request_fields(err)
    assert await orders_stored(orders) == 0
    assert await stock_of(inventory, "TEE-M") == before


@pytest.mark.parametrize(
    ("case", "amount", "field"),
    [
        ("no amount", None, "amount"),
        ("negative", money_pb2.Money(minor_units=-100, currency_code="CNY"), "amount"),
        ("zero", money_pb2.Money(minor_units=0, currency_code="CNY"), "amount"),
        (
            "ten to the fifteen",
            money_pb2.Money(minor_units=10**15, currency_code="CNY"),
            "amount.minor_units",
        ),
        (
            "currency zz",
            money_pb2.Money(minor_units=1999, currency_code="zz"),
            "amount.currency_code",
        ),
    ],
)
async def test_a_hostile_payment_is_refused_and_deducts_nothing(
    channels: tuple[grpc.aio.Channel, grpc.aio.Channel],
    case: str,
    amount: money_pb2.Money | None,
    field: str,
) -> None:
    orders, inventory = channels
    stub = orders_service_pb2_grpc.OrdersServiceStub(orders)
    placed = await stub.SyncPlatformOrder(
        orders_service_pb2.SyncPlatformOrderRequest(
            request_id=f"shop:{new_id()}", snapshot=sample_snapshot("P1", "TEE-M", 2)
        ),
        timeout=15,
    )
    before = await stock_of(inventory, "TEE-M")

    err = await refused(
        stub.RecordPayment(
            orders_service_pb2.RecordPaymentRequest(
                name=placed.order.name, amount=amount, request_id=new_id()
            ),
            timeout=10,
        )
    )

    assert field in bad_request_fields(err), case
    order = (await stub.GetOrder(orders_service_pb2.GetOrderRequest(name=placed.order.name))).order
    assert order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert await stock_of(inventory, "TEE-M") == before


@pytest.mark.parametrize(
    "name", ["orders/../x", "orders/A\x00B", "orders/A/B", "orders/" + "x" * 100_000, "x", ""]
)
async def test_a_malformed_order_name_is_refused(
    channels: tuple[grpc.aio.Channel, grpc.aio.Channel], name: str
) -> None:
    orders, _ = channels
    err = await refused(
        orders_service_pb2_grpc.OrdersServiceStub(orders).GetOrder(
            orders_service_pb2.GetOrderRequest(name=name), timeout=10
        )
    )
    assert set(bad_request_fields(err)) == {"name"}


async def test_approve_and_reject_without_an_operator_are_refused(
    channels: tuple[grpc.aio.Channel, grpc.aio.Channel],
) -> None:
    orders, _ = channels
    stub = orders_service_pb2_grpc.OrdersServiceStub(orders)
    approve = await refused(
        stub.ApproveOrder(orders_service_pb2.ApproveOrderRequest(name="orders/A1"))
    )
    reject = await refused(
        stub.RejectOrder(orders_service_pb2.RejectOrderRequest(name="orders/A1"))
    )
    retry = await refused(
        stub.RetryTransaction(orders_service_pb2.RetryTransactionRequest(gid="G1"))
    )
    assert [bad_request_fields(e) for e in (approve, reject, retry)] == [["operator"]] * 3


STOCK = "inventory"


@pytest.mark.parametrize(
    ("case", "fields", "field"),
    [
        ("no request id", {"request_id": ""}, "request_id"),
        ("request id with a slash", {"request_id": "a/b"}, "request_id"),
        ("sku with a path", {"sku": "../x"}, "sku"),
        ("sku with NUL", {"sku": "A\x00"}, "sku"),
        ("negative on hand", {"on_hand": -1}, "on_hand"),
        ("on hand of int64 max", {"on_hand": INT64_MAX}, "on_hand"),
        ("unknown reason number", {"reason": 999}, "reason"),
        ("note of a megabyte", {"note": "n" * 1_000_000}, "note"),
    ],
)
async def test_a_hostile_set_stock_is_refused_and_changes_nothing(
    channels: tuple[grpc.aio.Channel, grpc.aio.Channel],
    case: str,
    fields: dict[str, Any],
    field: str,
) -> None:
    _, inventory = channels
    request = {
        "sku": "TEE-M",
        "warehouse_code": "HZ1",
        "on_hand": 3,
        "reason": inventory_pb2.ADJUSTMENT_REASON_MANUAL,
        "note": "count",
        "actor": "amy",
        "request_id": new_id(),
        **fields,
    }
    before = await stock_of(inventory, "TEE-M")
    err = await refused(
        inventory_service_pb2_grpc.InventoryServiceStub(inventory).SetStock(
            inventory_service_pb2.SetStockRequest(**request), timeout=10
        )
    )
    assert field in bad_request_fields(err), case
    assert await stock_of(inventory, "TEE-M") == before


@pytest.mark.parametrize("service", ["orders", "inventory"])
async def test_no_rpc_answers_internal_or_unknown_to_empty_or_garbage_requests(
    pair: Pair, service: str
) -> None:
    garbage = [b"", b"\xff\xff\xff\xff", b"\x0a\xff\xff\xff\xff\x0f", bytes(range(256)) * 8]
    async with grpc.aio.insecure_channel(pair.addr(service)) as channel:
        for method in every_method(service):
            for body in garbage:
                code = await call_raw(channel, method, body)
                assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (
                    method,
                    body[:8],
                )
