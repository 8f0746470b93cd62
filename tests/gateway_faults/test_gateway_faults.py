"""Gateway faults with every service as a real process: orders down, the gateway killed
with SIGKILL right after answering, the gateway's database unavailable."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from gateway_faults.fault_support import ADMIN_TOKEN, PrivatePostgres, fault_stack
from oms.orders.v1 import orders_service_pb2, orders_service_pb2_grpc
from oms_cli.stack import Stack
from omslib.testing.polling import wait_until
from sqlalchemy.engine import make_url
from stack_support import inbox_entries as shared_inbox_entries
from stack_support import post_push, signed_shop_push

pytestmark = pytest.mark.e2e


def inbox_entries(stack: Stack, **params: Any) -> list[dict[str, Any]]:
    return shared_inbox_entries(stack, ADMIN_TOKEN, **params)


def order_exists(stack: Stack, platform_order_id: str) -> bool:
    with grpc.insecure_channel(stack.addr("orders")) as channel:
        stub = orders_service_pb2_grpc.OrdersServiceStub(channel)
        try:
            stub.GetOrder(
                orders_service_pb2.GetOrderRequest(
                    name=f"platforms/shop/orders/{platform_order_id}"
                ),
                timeout=5,
            )
        except grpc.RpcError as err:
            if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE):
                return False
            raise
    return True


def all_orders_exist(stack: Stack, ids: list[str]) -> Callable[[], bool]:
    return lambda: all(order_exists(stack, order_id) for order_id in ids)


def test_pushes_are_stored_while_orders_is_down_and_delivered_once_it_is_back(
    stack_for_faults: Stack,
) -> None:
    stack = stack_for_faults
    stack.kill("orders")
    ids = [f"DOWN-{n}" for n in range(20)]
    for order_id in ids:
        reply = post_push(stack, *signed_shop_push(order_id, [("TEE-WHITE-M", 1)]))
        assert reply.status_code == 202, reply.text
    stored = inbox_entries(stack)
    assert len(stored) == 20
    assert {entry["state"] for entry in stored} <= {"RECEIVED", "DELIVERING"}

    stack.start_service("orders")
    stack.wait_healthy("orders")

    wait_until(all_orders_exist(stack, ids), within=60, what="every order after orders is back")
    wait_until(
        lambda: {e["state"] for e in inbox_entries(stack)} == {"DELIVERED"},
        within=30,
        what="every inbox entry DELIVERED",
    )
    # Each entry was delivered once: the first successful attempt is its only "delivered" one.
    assert all(entry["outcome"] == "CREATED" for entry in inbox_entries(stack))


def test_nothing_acknowledged_is_lost_when_the_gateway_is_killed_right_after_answering(
    stack_for_faults: Stack,
) -> None:
    stack = stack_for_faults
    ids = [f"KILL-{n}" for n in range(60)]

    def send(order_id: str) -> tuple[str, int]:
        try:
            reply = post_push(stack, *signed_shop_push(order_id, [("MUG-CLASSIC", 1)]))
        except httpx.HTTPError:
            return order_id, 0
        return order_id, reply.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        answered = list(pool.map(send, ids))
    stack.kill("gateway", signal.SIGKILL)  # right after the last answer, deliveries in flight
    acknowledged = [order_id for order_id, status in answered if status in (200, 202)]
    assert len(acknowledged) == len(ids)

    stack.start_service("gateway")
    stack.wait_healthy("gateway")
    wait_until(
        all_orders_exist(stack, acknowledged),
        within=90,
        what="every acknowledged push to become an order after the restart",
    )
    assert {e["state"] for e in inbox_entries(stack)} <= {"DELIVERED", "DELIVERING", "RECEIVED"}


class SqliteWriteLock:
    """Makes a SQLite database unavailable for writing the honest way: another process
    holds its write lock (as a stuck backup or maintenance job would). Root ignores file
    permissions, so chmod would not do it here. Release gives the database back."""

    def __init__(self, url: str) -> None:
        path = make_url(url).database
        assert path
        code = (
            "import sqlite3, sys\n"
            f"db = sqlite3.connect({path!r}, isolation_level=None)\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n"
        )
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self._proc.stdout is not None
        assert self._proc.stdout.readline().strip() == b"locked"

    def release(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=10)


def test_database_unavailable_is_503_and_the_gateway_recovers_by_itself(
    tmp_path: Path,
    make_database_url: Callable[[str], str],
    redis_url: str,
    db_backend: str,
    request: pytest.FixtureRequest,
) -> None:
    cluster: PrivatePostgres | None = None
    gateway_url = None
    if db_backend == "postgres":
        cluster = request.getfixturevalue("private_postgres")
        gateway_url = cluster.url
    stack = fault_stack(tmp_path / "var", make_database_url, redis_url, gateway_url)
    try:
        before = post_push(stack, *signed_shop_push("DB-0", [("TEE-WHITE-M", 1)]))
        assert before.status_code == 202, before.text

        if cluster is not None:
            cluster.stop()
        else:
            lock = SqliteWriteLock(stack.env_for("gateway")["OMS_GATEWAY_DATABASE_URL"])
        push = signed_shop_push("DB-1", [("TEE-WHITE-M", 1)])
        during = _post(stack, push)
        assert during.status_code == 503, during.text
        assert during.json()["error"]["reason"] == "INBOX_UNAVAILABLE"
        assert int(during.headers["retry-after"]) > 0

        if cluster is not None:
            cluster.start()
        else:
            lock.release()
        # The platform retries the same push; no restart of the gateway. 200 (duplicate)
        # is right too: a write queued during the outage may complete once it is over.
        after = wait_until(
            lambda: (r := _post(stack, push)).status_code in (200, 202) and r,
            within=60,
            what="the gateway to accept pushes again",
        )
        assert after
        wait_until(
            all_orders_exist(stack, ["DB-0", "DB-1"]), within=60, what="both orders delivered"
        )
        stack.check_alive()
    finally:
        stack.stop()


def _post(stack: Stack, push: tuple[bytes, dict[str, str]]) -> httpx.Response:
    body, headers = push
    return httpx.post(
        f"{stack.gateway_url}/webhooks/shop", content=body, headers=headers, timeout=60
    )
