"""The first path, end to end with every service as its own process: a signed
web-shop push becomes an order with stock reserved, visible through the CLI and
through a generic reflection-based gRPC client; bad input is refused and stores
nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from oms.inventory.v1 import inventory_service_pb2, inventory_service_pb2_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms_cli.stack import Stack
from omslib.testing.polling import wait_until
from stack_support import (
    STACK_ADMIN_TOKEN,
    inbox_entries,
    post_push,
    signed_shop_push,
)

pytestmark = pytest.mark.e2e


def get_order(stack: Stack, name: str) -> order_pb2.Order | None:
    with grpc.insecure_channel(stack.addr("orders")) as channel:
        stub = orders_service_pb2_grpc.OrdersServiceStub(channel)
        try:
            return stub.GetOrder(orders_service_pb2.GetOrderRequest(name=name), timeout=5).order
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise


def settled_order(stack: Stack, name: str) -> order_pb2.Order | None:
    """The order once its stock reservation (Try) has an outcome, else None.

    Orders stores a new order before asking inventory, so for a moment it is
    PENDING_PAYMENT with nothing allocated; REJECTED or allocations follow.
    """
    order = get_order(stack, name)
    if order is None:
        return None
    if order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT and not order.allocations:
        return None
    return order


def list_orders(stack: Stack) -> list[order_pb2.Order]:
    with grpc.insecure_channel(stack.addr("orders")) as channel:
        stub = orders_service_pb2_grpc.OrdersServiceStub(channel)
        return list(stub.ListOrders(orders_service_pb2.ListOrdersRequest(), timeout=5).orders)


def availability(stack: Stack, sku: str) -> inventory_service_pb2.GetAvailabilityResponse:
    with grpc.insecure_channel(stack.addr("inventory")) as channel:
        stub = inventory_service_pb2_grpc.InventoryServiceStub(channel)
        return stub.GetAvailability(
            inventory_service_pb2.GetAvailabilityRequest(skus=[sku]), timeout=5
        ).availabilities[0]


def run_cli(stack: Stack, *args: str) -> str:
    env = dict(
        os.environ, OMS_ORDERS_ADDR=stack.addr("orders"), OMS_INVENTORY_ADDR=stack.addr("inventory")
    )
    done = subprocess.run(
        [sys.executable, "-m", "oms_cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_signed_push_becomes_an_order_with_stock_reserved(stack: Stack) -> None:
    before = availability(stack, "TEE-WHITE-M")
    body, headers = signed_shop_push("E2E-1", [("TEE-WHITE-M", 2), ("MUG-CLASSIC", 1)])

    reply = post_push(stack, body, headers)

    assert reply.status_code == 202, reply.text
    order = wait_until(
        lambda: settled_order(stack, "platforms/shop/orders/E2E-1"),
        what="the order to be created with its reservation",
    )
    assert order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert sorted((a.sku, a.quantity) for a in order.allocations) == [
        ("MUG-CLASSIC", 1),
        ("TEE-WHITE-M", 2),
    ]
    after = availability(stack, "TEE-WHITE-M")
    assert after.reserved == before.reserved + 2
    assert after.available == before.available - 2

    shown = run_cli(stack, "order", "get", "platforms/shop/orders/E2E-1")
    assert "PENDING_PAYMENT" in shown and order.order_id in shown
    stock = run_cli(stack, "stock", "get", "TEE-WHITE-M")
    assert str(after.reserved) in stock


def test_the_events_of_a_push_can_be_read_with_the_cli(stack: Stack) -> None:
    body, headers = signed_shop_push("E2E-EVENTS", [("CAP-RED", 1)])
    assert post_push(stack, body, headers).status_code == 202

    def published() -> list[dict] | None:  # type: ignore[type-arg]
        out = run_cli(stack, "events", "tail", "--redis", stack.redis_url, "-n", "1000", "--json")
        events = [json.loads(line) for line in out.splitlines()]
        mine = [
            e
            for e in events
            if e["stream"] == "oms.orders"
            and e["payload"].get("order", {}).get("platformOrderId") == "E2E-EVENTS"
        ]
        return events if mine else None

    events = wait_until(published, what="OrderCreated of E2E-EVENTS on oms.orders")
    assert isinstance(events, list)
    assert any(
        e["stream"] == "oms.inventory"
        and e["type"] == "AvailabilityChanged"
        and e["aggregateId"] == "CAP-RED"
        for e in events
    )
    human = run_cli(stack, "events", "tail", "oms.orders", "--redis", stack.redis_url)
    assert "OrderCreated" in human and "E2E-EVENTS" in human


def test_a_generic_grpc_client_reads_the_order_through_reflection(stack: Stack) -> None:
    body, headers = signed_shop_push("E2E-REFLECT", [("CAP-RED", 1)])
    assert post_push(stack, body, headers).status_code == 202
    created = wait_until(
        lambda: settled_order(stack, "platforms/shop/orders/E2E-REFLECT"), what="order"
    )

    with grpc.insecure_channel(stack.addr("orders")) as channel:
        # Only what the server tells us through reflection: no generated stubs.
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        service = pool.FindServiceByName("oms.orders.v1.OrdersService")
        method = service.methods_by_name["GetOrder"]
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        get_order_rpc = channel.unary_unary(
            f"/{service.full_name}/{method.name}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        reply = get_order_rpc(request_class(name=f"orders/{created.order_id}"), timeout=5)

    assert reply.order.platform_order_id == "E2E-REFLECT"
    assert reply.order.allocations[0].sku == "CAP-RED"


def test_not_enough_stock_rejects_the_order_and_reserves_nothing(stack: Stack) -> None:
    scarce = availability(stack, "LAMP-SCARCE")
    body, headers = signed_shop_push("E2E-SCARCE", [("LAMP-SCARCE", scarce.available + 1)])

    assert post_push(stack, body, headers).status_code == 202

    order = wait_until(
        lambda: settled_order(stack, "platforms/shop/orders/E2E-SCARCE"), what="order"
    )
    assert order.state == order_pb2.ORDER_STATE_REJECTED
    assert "INSUFFICIENT_STOCK" in order.reason_codes
    assert availability(stack, "LAMP-SCARCE").reserved == scarce.reserved


@pytest.mark.parametrize(
    ("case", "expected_status"),
    [
        ("wrong_signature", 401),
        ("missing_signature", 401),
        ("expired_timestamp", 401),
        ("malformed_json", 400),
        ("missing_field", 400),
        ("negative_quantity", 400),
        ("unknown_platform", 404),
    ],
)
def test_bad_input_is_refused_and_stores_no_order(
    stack: Stack, case: str, expected_status: int
) -> None:
    body, headers = signed_shop_push(f"E2E-BAD-{case}", [("TEE-BLACK-L", 1)])
    platform = "shop"
    if case == "wrong_signature":
        _, headers = signed_shop_push(
            f"E2E-BAD-{case}", [("TEE-BLACK-L", 1)], secret="whsec_" + "d3Jvbmc="
        )
    elif case == "missing_signature":
        del headers["webhook-signature"]
    elif case == "expired_timestamp":
        body, headers = signed_shop_push(
            f"E2E-BAD-{case}", [("TEE-BLACK-L", 1)], timestamp=int(time.time()) - 3600
        )
    elif case in ("malformed_json", "missing_field", "negative_quantity"):
        raw = {
            "malformed_json": b'{"type": "order.created", "order": ',
            "missing_field": body.replace(b'"lines"', b'"linez"'),
            "negative_quantity": body.replace(b'"quantity": 1', b'"quantity": -1'),
        }[case]
        assert raw != body
        # Correctly signed, so the failure is about the body itself.
        body, headers = _resign(raw)
    elif case == "unknown_platform":
        platform = "nosuchshop"

    stored_before = len(inbox_entries(stack, STACK_ADMIN_TOKEN))
    reply = post_push(stack, body, headers, platform=platform)

    assert reply.status_code == expected_status, reply.text
    assert reply.json()["error"]["message"]
    # A push reaches orders only from the gateway's inbox, which is written before any
    # 2xx: nothing added there means nothing can arrive later, without waiting to see.
    assert len(inbox_entries(stack, STACK_ADMIN_TOKEN)) == stored_before
    assert all(o.platform_order_id != f"E2E-BAD-{case}" for o in list_orders(stack))


def _resign(raw: bytes) -> tuple[bytes, dict[str, str]]:
    from oms_cli.stack import DEV_SHOP_SECRET
    from omslib.ids import new_id
    from omslib.platforms.samples.shop import sign_standard_webhook

    headers = sign_standard_webhook(DEV_SHOP_SECRET, f"msg_{new_id()}", int(time.time()), raw)
    headers["content-type"] = "application/json"
    return raw, headers
