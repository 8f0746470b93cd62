"""Crashes during a stream of refunds: SIGKILL aftersales (the coordinator) or orders (the
freeze participant) at random moments, seeded (the seed is printed; OMS_CRASH_SEED replays
one). Afterwards every refund is final, the money the fake provider paid equals what the
orders record as refunded, no payment key was paid twice, and nothing stays frozen.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc.aio
import pytest
from fake_payments import FakePayments, running_fake_payments
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as apb_s
from oms.aftersales.v1 import aftersales_service_pb2_grpc
from oms.inventory.v1 import inventory_service_pb2_grpc
from oms.orders.v1 import orders_service_pb2, orders_service_pb2_grpc
from oms.type.v1 import money_pb2
from oms_cli.stack import Stack
from stack_support import start_stack

sys.path.insert(0, str(Path(__file__).parent))
from conftest import FAST_TCC
from tcc_support import set_stock, snapshot, sync, with_retries
from test_crash_recovery import restart

ORDERS = 10
UNIT = 1999
FINAL = {
    apb.REFUND_STATE_REFUNDED,
    apb.REFUND_STATE_REJECTED,
    apb.REFUND_STATE_CANCELLED,
    apb.REFUND_STATE_FAILED,
}
FAST_REFUNDS = {
    "OMS_AFTERSALES_TCC_LEASE_SECONDS": "3",
    "OMS_AFTERSALES_TCC_RETRY_BASE_SECONDS": "0.2",
    "OMS_AFTERSALES_TCC_MAX_ATTEMPTS": "30",
    "OMS_AFTERSALES_TCC_TRY_TIMEOUT_SECONDS": "3",
    "OMS_AFTERSALES_RECOVERY_INTERVAL_SECONDS": "0.3",
    "OMS_AFTERSALES_ORDERS_TIMEOUT_SECONDS": "2",
    "OMS_AFTERSALES_PAYMENT_TIMEOUT_SECONDS": "2",
    "OMS_AFTERSALES_PAYOUT_GRACE_SECONDS": "2",
    "OMS_AFTERSALES_PAYOUT_RETRY_BASE_SECONDS": "0.2",
    "OMS_AFTERSALES_PAYOUT_INTERVAL_SECONDS": "0.3",
    "OMS_AFTERSALES_TIMER_LEASE_SECONDS": "2",
    "OMS_AFTERSALES_REFUND_AUTO_APPROVE_MAX_MINOR_UNITS": "100000000",
}


@pytest.fixture
def payments() -> Iterator[FakePayments]:
    with running_fake_payments(FakePayments(late_seconds=3.0)) as fake:
        yield fake


@pytest.fixture
def refund_crash_stack(
    tmp_path: Path,
    make_database_url: Callable[[str], str],
    redis_url: str,
    payments: FakePayments,
) -> Iterator[Stack]:
    env = {
        **FAST_TCC,
        **FAST_REFUNDS,
        "OMS_AFTERSALES_PAYMENT_API_URL": payments.url,
        "OMS_AFTERSALES_PAYMENT_API_KEY": payments.api_key,
    }
    running = start_stack(tmp_path / "var", make_database_url, redis_url, extra_env=env)
    try:
        yield running
    finally:
        running.stop()


def cny(units: int) -> money_pb2.Money:
    return money_pb2.Money(minor_units=units, currency_code="CNY")


async def _paid_orders(orders, inventory) -> list[str]:  # type: ignore[no-untyped-def]
    await set_stock(inventory, "RF-1", 2 * ORDERS)
    names = []
    for i in range(ORDERS):
        order = (await sync(orders, snapshot(f"RF-{i}", "RF-1", quantity=2))).order
        paid = await with_retries(
            lambda order=order: orders.RecordPayment(
                orders_service_pb2.RecordPaymentRequest(
                    name=order.name, amount=order.total, payment_reference=f"PAY-{order.order_id}"
                ),
                timeout=30,
            )
        )
        names.append(paid.order.name)
    return names


async def _stream(aftersales, names: list[str], rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """Three refunds per order (some above what is left), one of them sent twice."""
    gate = asyncio.Semaphore(4)

    async def one(name: str, k: int, units: int) -> None:
        request = apb_s.RequestRefundRequest(
            order=name, amount=cny(units), request_id=f"{name.removeprefix('orders/')}-{k}"
        )
        async with gate:
            try:
                await with_retries(lambda: aftersales.RequestRefund(request, timeout=30))
            except grpc.aio.AioRpcError as err:
                assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err

    calls = []
    for name in names:
        for k in range(3):
            units = rng.choice([500, UNIT, 2 * UNIT, 1500])
            calls.append(one(name, k, units))
        calls.append(one(name, 0, 1))  # a duplicate of the first (same request id)
    rng.shuffle(calls)
    await asyncio.gather(*calls)


async def _killer(stack: Stack, service: str, rounds: int, rng: random.Random) -> None:
    for _ in range(rounds):
        await asyncio.sleep(rng.uniform(0.2, 1.2))
        await asyncio.to_thread(stack.kill, service)
        await asyncio.sleep(rng.uniform(0.1, 0.4))
        await restart(stack, service)


async def _all_refunds(aftersales) -> list[apb.Refund]:  # type: ignore[no-untyped-def]
    out, token = [], ""
    while True:
        request = apb_s.ListRefundsRequest(page_size=500, page_token=token)
        reply = await with_retries(
            lambda request=request: aftersales.ListRefunds(request, timeout=30)
        )
        out.extend(reply.refunds)
        token = reply.next_page_token
        if not token:
            return out


async def _run(stack: Stack, service: str, payments: FakePayments, seed: int) -> None:
    rng = random.Random(seed)
    async with (
        grpc.aio.insecure_channel(stack.addr("orders")) as oc,
        grpc.aio.insecure_channel(stack.addr("inventory")) as ic,
        grpc.aio.insecure_channel(stack.addr("aftersales")) as ac,
    ):
        orders = orders_service_pb2_grpc.OrdersServiceStub(oc)
        inventory = inventory_service_pb2_grpc.InventoryServiceStub(ic)
        aftersales = aftersales_service_pb2_grpc.AftersalesServiceStub(ac)
        names = await _paid_orders(orders, inventory)
        payments.script = [rng.choice(["ok", "ok", "late", "fail"]) for _ in range(12)]
        await asyncio.gather(_stream(aftersales, names, rng), _killer(stack, service, 3, rng))

        for _ in range(240):  # everything settles: recovery, payout job, Confirm rounds
            refunds = await _all_refunds(aftersales)
            by_order = {
                name: (
                    await with_retries(
                        lambda name=name: orders.GetOrder(
                            orders_service_pb2.GetOrderRequest(name=name), timeout=10
                        )
                    )
                ).order
                for name in names
            }
            settled = all(r.state in FINAL for r in refunds) and all(
                not o.HasField("refund_frozen") or o.refund_frozen.minor_units == 0
                for o in by_order.values()
            )
            if settled:
                break
            await asyncio.sleep(0.5)
        stuck = [(r.name, apb.RefundState.Name(r.state)) for r in refunds if r.state not in FINAL]
        assert not stuck, f"unfinished refunds (seed {seed}): {stuck}"
        assert len(refunds) == 3 * ORDERS  # the duplicate made nothing
        refunded = [r for r in refunds if r.state == apb.REFUND_STATE_REFUNDED]
        assert refunded, f"nothing was refunded (seed {seed})"
        assert all(n == 1 for n in payments.payments.values()), payments.payments
        paid_keys = {f"refund-{r.refund_id}" for r in refunded}
        assert set(payments.paid) == paid_keys  # money out exactly for the REFUNDED ones
        assert payments.total_paid == sum(r.amount.minor_units for r in refunded)
        recorded = sum(o.refunded.minor_units for o in by_order.values())
        assert recorded == payments.total_paid, (recorded, payments.total_paid, seed)
        for o in by_order.values():
            assert o.refunded.minor_units <= o.total.minor_units
            assert not o.HasField("refund_frozen") or o.refund_frozen.minor_units == 0


@pytest.mark.e2e
@pytest.mark.parametrize("service", ["aftersales", "orders"])
def test_sigkill_during_a_stream_of_refunds(
    refund_crash_stack: Stack, payments: FakePayments, service: str
) -> None:
    seed = int(os.environ.get("OMS_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    print(f"refund crash test: service={service} seed={seed}")
    asyncio.run(_run(refund_crash_stack, service, payments, seed))
