"""Replicas: two orders and two inventory processes on one PostgreSQL database each.

Under load no transaction is confirmed or cancelled twice (inventory's audit log
shows at most one confirm/cancel per branch) and nothing is left unfinished.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

import grpc.aio
import pytest
from oms.inventory.v1 import inventory_service_pb2, inventory_service_pb2_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.tcc.v1 import tcc_pb2
from oms_cli.stack import grpc_health_serving
from omslib.testing.net import free_port

sys.path.insert(0, str(Path(__file__).parent))
from tcc_support import (
    CHANNELS,
    all_transactions,
    availability,
    set_stock,
    snapshot,
    sync,
    with_retries,
)

# Starts the whole stack as separate processes (services and Redis).
pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

OP = order_pb2
STOCK = 60
ORDERS = 120
FINAL_TX = {tcc_pb2.TRANSACTION_STATE_CONFIRMED, tcc_pb2.TRANSACTION_STATE_CANCELLED}


def _spawn(stack, service: str, port: int, extra: dict[str, str], log: Path):  # type: ignore[no-untyped-def]
    env = stack.env_for(service)
    env[f"OMS_{service.upper()}_PORT"] = str(port)
    env.update(extra)
    return subprocess.Popen(
        [sys.executable, "-m", f"oms_{service}"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def _healthy(addr: str) -> None:
    for _ in range(600):
        if await grpc_health_serving(addr):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(addr)


async def _run(stack, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    inv2_port, ord2_port = free_port(), free_port()
    inv2 = _spawn(stack, "inventory", inv2_port, {}, tmp / "inventory-2.log")
    procs = [inv2]
    try:
        await _healthy(f"127.0.0.1:{inv2_port}")
        ord2 = _spawn(
            stack,
            "orders",
            ord2_port,
            {"OMS_INVENTORY_ADDR": f"127.0.0.1:{inv2_port}"},
            tmp / "orders-2.log",
        )
        procs.append(ord2)
        await _healthy(f"127.0.0.1:{ord2_port}")
        async with (
            grpc.aio.insecure_channel(stack.addr("orders")) as c1,
            grpc.aio.insecure_channel(f"127.0.0.1:{ord2_port}") as c2,
            grpc.aio.insecure_channel(stack.addr("inventory")) as ic,
        ):
            replicas = [
                orders_service_pb2_grpc.OrdersServiceStub(c1),
                orders_service_pb2_grpc.OrdersServiceStub(c2),
            ]
            inventory = inventory_service_pb2_grpc.InventoryServiceStub(ic)
            await set_stock(inventory, "REP-1", STOCK)
            gate = asyncio.Semaphore(16)

            async def one(i: int) -> None:
                async with gate:
                    first, other = replicas[i % 2], replicas[(i + 1) % 2]
                    order = (
                        await sync(first, snapshot(f"RP-{i}", "REP-1", platform=CHANNELS[i % 3]))
                    ).order
                    if order.state != OP.ORDER_STATE_PENDING_PAYMENT:
                        return
                    if i % 3:  # paid through the other replica, twice (a duplicate)
                        for stub in (other, first):
                            await with_retries(
                                lambda stub=stub: stub.RecordPayment(
                                    orders_service_pb2.RecordPaymentRequest(
                                        name=order.name,
                                        amount=order.total,
                                        payment_reference=f"PAY-{order.order_id}",
                                    ),
                                    timeout=30,
                                )
                            )
                    else:  # cancelled on both replicas at once
                        await asyncio.gather(
                            *(
                                with_retries(
                                    lambda stub=stub: stub.CancelOrder(
                                        orders_service_pb2.CancelOrderRequest(name=order.name),
                                        timeout=30,
                                    )
                                )
                                for stub in replicas
                            )
                        )

            await asyncio.gather(*(one(i) for i in range(ORDERS)))
            for _ in range(120):
                txs = await all_transactions(replicas[0])
                if all(t.state in FINAL_TX for t in txs):
                    break
                await asyncio.sleep(0.5)
            assert all(t.state in FINAL_TX for t in txs), "unfinished transactions"

            entries = []
            token = ""
            while True:
                reply = await inventory.ListStockAudit(
                    inventory_service_pb2.ListStockAuditRequest(
                        sku="REP-1", page_size=500, page_token=token
                    )
                )
                entries.extend(reply.entries)
                token = reply.next_page_token
                if not token:
                    break
            moves = Counter((e.actor, e.action) for e in entries if e.actor.startswith("tcc:"))
            assert moves, "no TCC moves in the audit log"
            twice = {k: n for k, n in moves.items() if n > 1}
            assert not twice, f"applied more than once: {twice}"
            confirmed = sum(1 for t in txs if t.state == tcc_pb2.TRANSACTION_STATE_CONFIRMED)
            a = await availability(inventory, "REP-1")
            assert (a.on_hand, a.reserved) == (STOCK - confirmed, 0)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_two_orders_and_two_inventory_processes_share_one_database(
    tcc_stack, db_backend: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    if db_backend != "postgres":
        pytest.skip(
            "replicas need one shared server database: set OMS_TEST_POSTGRES_URL "
            "(SQLite files are not shared by separate hosts)"
        )
    asyncio.run(_run(tcc_stack, tmp_path))
