"""Several worker processes per service on one port (OMS_GATEWAY_WORKERS,
OMS_ORDERS_WORKERS), with the whole stack as real processes on PostgreSQL: pushes
through any worker become orders, and a worker that dies takes its supervisor down
(non-zero exit) instead of leaving the service at half strength unnoticed."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms_cli.stack import Stack
from omslib.testing.polling import wait_until
from stack_support import post_push, signed_shop_push, start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack_of_workers(
    db_backend: str, tmp_path: Path, make_database_url: Callable[[str], str], redis_url: str
) -> Iterator[Stack]:
    if db_backend != "postgres":
        pytest.skip("worker processes share a server database: set OMS_TEST_POSTGRES_URL")
    env = {"OMS_GATEWAY_WORKERS": "2", "OMS_ORDERS_WORKERS": "2"}
    running = start_stack(tmp_path / "var", make_database_url, redis_url, extra_env=env)
    try:
        yield running
    finally:
        running.stop()


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def orders_placed(stack: Stack, count: int) -> bool:
    with grpc.insecure_channel(stack.addr("orders")) as channel:
        stub = orders_service_pb2_grpc.OrdersServiceStub(channel)
        listed = stub.ListOrders(orders_service_pb2.ListOrdersRequest(page_size=100), timeout=5)
    settled = [
        order
        for order in listed.orders
        if order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT and order.allocations
    ]
    return len(settled) == count


def test_pushes_through_two_gateway_workers_become_orders_in_two_orders_workers(
    stack_of_workers: Stack,
) -> None:
    stack = stack_of_workers
    assert len(children(stack.process("gateway").pid)) == 2
    assert len(children(stack.process("orders").pid)) == 2

    # Separate connections, so the kernel spreads them over both gateway workers.
    for n in range(20):
        reply = post_push(stack, *signed_shop_push(f"WORKERS-{n}", [("TEE-WHITE-M", 1)]))
        assert reply.status_code == 202, reply.text

    wait_until(lambda: orders_placed(stack, 20), within=60, what="20 orders placed")


def test_a_gateway_worker_killed_stops_its_supervisor_with_an_error(
    stack_of_workers: Stack,
) -> None:
    stack = stack_of_workers
    supervisor = stack.process("gateway")
    first, second = children(supervisor.pid)

    os.kill(first, signal.SIGKILL)

    assert supervisor.wait(timeout=60) == 128 + signal.SIGKILL
    wait_until(lambda: gone(second), within=30, what="the other worker stopped")


def gone(pid: int) -> bool:
    try:  # a zombie (exited, not yet reaped by its new parent) is gone too
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "Z"
    except FileNotFoundError:
        return True
