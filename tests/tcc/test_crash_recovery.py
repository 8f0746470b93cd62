"""Crashes: SIGKILL orders or inventory at random moments during a stream of orders
(seeded: a failure reports the seed; OMS_TEST_SEED replays it).

Afterwards every transaction is CONFIRMED or CANCELLED, every acknowledged payment
is kept, and stock is conserved.
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

import grpc.aio
import pytest
from oms.inventory.v1 import inventory_service_pb2_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.tcc.v1 import tcc_pb2
from stack_support import restart_service

sys.path.insert(0, str(Path(__file__).parent))
from tcc_support import (
    CHANNELS,
    all_orders,
    all_transactions,
    availability,
    set_stock,
    snapshot,
    sync,
    with_retries,
)

# Starts the whole stack as separate processes (services and Redis).
pytestmark = pytest.mark.e2e

OP = order_pb2
STOCK = 30
ORDERS = 45
AFTER_PAYMENT = {OP.ORDER_STATE_PAID, OP.ORDER_STATE_IN_REVIEW, OP.ORDER_STATE_ALLOCATED}
FINAL_TX = {tcc_pb2.TRANSACTION_STATE_CONFIRMED, tcc_pb2.TRANSACTION_STATE_CANCELLED}


async def _stream(orders, paid: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    """Place orders one after another (4 at a time); pay two of three, cancel some."""
    gate = asyncio.Semaphore(4)

    async def one(i: int) -> None:
        async with gate:
            reply = await sync(orders, snapshot(f"CR-{i}", "CR-1", platform=CHANNELS[i % 3]))
            order = reply.order
            if order.state != OP.ORDER_STATE_PENDING_PAYMENT:
                return
            if i % 3 != 2:
                got = await with_retries(
                    lambda: orders.RecordPayment(
                        orders_service_pb2.RecordPaymentRequest(
                            name=order.name,
                            amount=order.total,
                            payment_reference=f"PAY-{order.order_id}",
                        ),
                        timeout=30,
                    )
                )
                paid[got.order.name] = 1
            elif i % 2 == 0:
                await with_retries(
                    lambda: orders.CancelOrder(
                        orders_service_pb2.CancelOrderRequest(name=order.name), timeout=30
                    )
                )

    await asyncio.gather(*(one(i) for i in range(ORDERS)))


async def _killer(stack, service: str, rounds: int, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        await asyncio.sleep(rng.uniform(0.3, 1.5))
        await asyncio.to_thread(stack.kill, service)
        await asyncio.sleep(rng.uniform(0.1, 0.5))
        await restart_service(stack, service)


async def _run(stack, service: str, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    async with (
        grpc.aio.insecure_channel(stack.addr("orders")) as oc,
        grpc.aio.insecure_channel(stack.addr("inventory")) as ic,
    ):
        orders = orders_service_pb2_grpc.OrdersServiceStub(oc)
        inventory = inventory_service_pb2_grpc.InventoryServiceStub(ic)
        await set_stock(inventory, "CR-1", STOCK)
        paid: dict[str, int] = {}
        await asyncio.gather(_stream(orders, paid), _killer(stack, service, 3, rng))

        # Unpaid orders are cancelled (as the deadline job would), then everything settles.
        for order in await all_orders(orders):
            if order.state == OP.ORDER_STATE_PENDING_PAYMENT:
                await with_retries(
                    lambda order=order: orders.CancelOrder(
                        orders_service_pb2.CancelOrderRequest(name=order.name), timeout=30
                    )
                )
        for _ in range(240):
            txs = await all_transactions(orders)
            if all(t.state in FINAL_TX for t in txs):
                break
            await asyncio.sleep(0.5)
        stuck = [
            (t.gid, tcc_pb2.TransactionState.Name(t.state), t.reason)
            for t in txs
            if t.state not in FINAL_TX
        ]
        assert not stuck, f"unfinished transactions: {stuck}"

        by_name = {o.name: o for o in await all_orders(orders)}
        confirmed = {t.gid for t in txs if t.state == tcc_pb2.TRANSACTION_STATE_CONFIRMED}
        for name in paid:  # no acknowledged payment is lost
            assert by_name[name].state in AFTER_PAYMENT, (name, by_name[name].state)
            assert by_name[name].gid in confirmed
        paid_units = sum(
            1 for o in by_name.values() if o.state in AFTER_PAYMENT and o.gid in confirmed
        )
        assert paid_units == len(confirmed)
        a = await availability(inventory, "CR-1")
        deducted = len(confirmed)
        assert a.on_hand + deducted == STOCK  # on hand + deducted = initial (+ 0 received)
        assert a.reserved == 0  # every reservation is final: none is live
        assert a.available == a.on_hand
        assert paid, "the stream paid nothing"


@pytest.mark.parametrize("service", ["orders", "inventory"])
def test_sigkill_during_a_stream_of_orders(  # type: ignore[no-untyped-def]
    tcc_stack, service: str, chaos_rng: random.Random
) -> None:
    asyncio.run(_run(tcc_stack, service, chaos_rng))
