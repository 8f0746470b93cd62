"""Benchmark of the TCC flow: orders placed (Try) and paid (Confirm) per second, p50/p99,
for many SKUs and for one hot SKU, next to floors measured in the same run:
a bare gRPC echo round trip (health check of the same orders process) and a bare
conditional stock update (``UPDATE ... SET available = available - 1 WHERE
available >= 1``, one commit each) on the same database backend.

Runs the real services as processes (the runner of `make run`): on SQLite, and
also on PostgreSQL when OMS_BENCH_POSTGRES_URL names a server. Prints figures;
asserts nothing. Next to rates and latencies it prints the CPU time the orders and
inventory processes spent per call (from /proc), which stays meaningful on a machine
shared with other work, where rates do not.

    .venv/bin/python tests/bench/bench_tcc.py [--orders 1000] [--concurrency 32] [--channels 4]

OMS_ORDERS_WORKERS=2 in the environment runs two orders worker processes on the port.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from oms.inventory.v1 import inventory_service_pb2_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.type.v1 import address_pb2, money_pb2, platform_pb2
from oms_cli.stack import Stack, StackConfig
from omslib.db import create_engine
from omslib.ids import new_id
from omslib.testing.net import free_port
from omslib.testing.postgres import create_database, database_url, drop_database, fresh_name
from omslib.testing.stock import put_stock
from rich.console import Console

console = Console(width=120)
SKUS = [f"TCC-{n:03d}" for n in range(200)]
# label, per second, p50 ms, p99 ms, CPU ms per call of orders, of inventory
Result = tuple[str, float, float, float, float, float]
CpuProbe = Callable[[], tuple[float, float]]


def _stat(pid: int | str) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a service process and of its direct children (the workers when
    OMS_<SERVICE>_WORKERS > 1), in seconds, from Linux /proc; 0 where unavailable."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(entry.name)
        if fields is not None and (int(entry.name) == pid or int(fields[1]) == pid):
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def no_cpu() -> tuple[float, float]:
    return 0.0, 0.0


PAID_STATES = {order_pb2.ORDER_STATE_ALLOCATED, order_pb2.ORDER_STATE_IN_REVIEW}


def snapshot(order_id: str, sku: str) -> order_pb2.PlatformOrderSnapshot:
    now = Timestamp()
    now.GetCurrentTime()
    price = money_pb2.Money(minor_units=1000, currency_code="CNY")
    return order_pb2.PlatformOrderSnapshot(
        platform=platform_pb2.PLATFORM_SHOP,
        platform_order_id=order_id,
        status=order_pb2.PLATFORM_ORDER_STATUS_CREATED,
        create_time=now,
        update_time=now,
        total=price,
        buyer=order_pb2.Buyer(id="bench", name="Bench"),
        shipping_address=address_pb2.Address(
            province="Zhejiang",
            city="Hangzhou",
            line1="1 Bench Rd",
            recipient_name="B",
            phone="13800000000",
        ),
        lines=[order_pb2.OrderLine(sku=sku, quantity=1, unit_price=price)],
    )


async def measure(
    label: str,
    count: int,
    concurrency: int,
    one: Callable[[int], Awaitable[None]],
    cpu: CpuProbe = no_cpu,
) -> Result:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    cpu_before = cpu()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu_after = cpu()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    orders_ms, inventory_ms = (
        (after - before) * 1000 / count for before, after in zip(cpu_before, cpu_after, strict=True)
    )
    return label, count / elapsed, p50, p99, orders_ms, inventory_ms


async def bare_update_floor(url: str, count: int, concurrency: int) -> Result:
    engine = create_engine(url)
    meta = sa.MetaData()
    stock = sa.Table(
        "bench_stock",
        meta,
        sa.Column("sku", sa.String(32), primary_key=True),
        sa.Column("available", sa.Integer, nullable=False),
    )
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
        await conn.execute(
            sa.insert(stock), [{"sku": f"S{i}", "available": 10 * count} for i in range(200)]
        )

    async def one(i: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(stock)
                .where(stock.c.sku == f"S{i % 200}", stock.c.available >= 1)
                .values(available=stock.c.available - 1)
            )

    try:
        return await measure("floor: conditional UPDATE", count, concurrency, one)
    finally:
        await engine.dispose()


async def run(
    stack: Stack, scratch_url: str, count: int, concurrency: int, channels: int
) -> list[Result]:
    # Several connections to orders, as several gateway replicas would have: with
    # OMS_ORDERS_WORKERS > 1 the kernel spreads connections (not calls) over the workers.
    separate = [("grpc.use_local_subchannel_pool", 1)]
    orders_channels = [
        grpc.aio.insecure_channel(stack.addr("orders"), options=separate)
        for _ in range(max(1, channels))
    ]
    try:
        return await _run(stack, orders_channels, scratch_url, count, concurrency)
    finally:
        for channel in orders_channels:
            await channel.close(None)


async def _run(
    stack: Stack,
    orders_channels: list[grpc.aio.Channel],
    scratch_url: str,
    count: int,
    concurrency: int,
) -> list[Result]:
    orders_channel = orders_channels[0]
    async with grpc.aio.insecure_channel(stack.addr("inventory")) as inventory_channel:
        inventory = inventory_service_pb2_grpc.InventoryServiceStub(inventory_channel)
        for sku in [*SKUS, "TCC-HOT"]:
            await put_stock(inventory, sku, 10 * count, note="bench", actor="bench")
        orders_pid, inventory_pid = stack.process("orders").pid, stack.process("inventory").pid

        def cpu() -> tuple[float, float]:
            return process_cpu_seconds(orders_pid), process_cpu_seconds(inventory_pid)

        health = health_pb2_grpc.HealthStub(orders_channel)
        stubs = [orders_service_pb2_grpc.OrdersServiceStub(c) for c in orders_channels]
        run_id = new_id()
        names: dict[str, list[str]] = {"m": [""] * count, "h": [""] * count}
        totals: dict[str, list[money_pb2.Money]] = {
            "m": [money_pb2.Money()] * count,
            "h": [money_pb2.Money()] * count,
        }

        async def echo(_: int) -> None:
            await health.Check(health_pb2.HealthCheckRequest())

        def place(sku_for: Callable[[int], str], tag: str) -> Callable[[int], Awaitable[None]]:
            async def one(i: int) -> None:
                order_id = f"{run_id}-{tag}-{i}"
                reply = await stubs[i % len(stubs)].SyncPlatformOrder(
                    orders_service_pb2.SyncPlatformOrderRequest(
                        request_id=f"bench:{order_id}", snapshot=snapshot(order_id, sku_for(i))
                    ),
                    timeout=30,
                )
                assert reply.order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT, reply
                names[tag][i] = reply.order.name
                totals[tag][i] = reply.order.total

            return one

        def pay(tag: str) -> Callable[[int], Awaitable[None]]:
            async def one(i: int) -> None:
                reply = await stubs[i % len(stubs)].RecordPayment(
                    orders_service_pb2.RecordPaymentRequest(
                        name=names[tag][i],
                        amount=totals[tag][i],
                        payment_reference=f"PAY-{tag}-{i}",
                    ),
                    timeout=30,
                )
                assert reply.order.state in PAID_STATES, reply.order.state

            return one

        results = [
            await measure("floor: gRPC echo", count, concurrency, echo, cpu),
            await bare_update_floor(scratch_url, count, concurrency),
            await measure(
                "place (Try), many SKUs",
                count,
                concurrency,
                place(lambda i: SKUS[i % 200], "m"),
                cpu,
            ),
            await measure("pay (Confirm), many SKUs", count, concurrency, pay("m"), cpu),
            await measure(
                "place (Try), one hot SKU", count, concurrency, place(lambda _: "TCC-HOT", "h"), cpu
            ),
            await measure("pay (Confirm), one hot SKU", count, concurrency, pay("h"), cpu),
        ]
        return results


def bench(
    backend: str, admin: str | None, count: int, concurrency: int, channels: int = 4
) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        created: list[str] = []
        urls: dict[str, str] = {}
        if admin:
            for service in ("orders", "inventory", "gateway", "scratch"):
                name = fresh_name(f"bench_{service}")
                create_database(admin, name)
                created.append(name)
                urls[service] = database_url(admin, name)
        scratch = urls.pop("scratch", f"sqlite+aiosqlite:///{Path(tmp) / 'scratch.db'}")
        config = StackConfig(
            var_dir=Path(tmp),
            ports={s: free_port() for s in ("gateway", "orders", "inventory", "aftersales")},
            database_urls=urls,
            extra_env={"OMS_LOG_LEVEL": "WARNING", "OTEL_TRACES_EXPORTER": "none"},
        )
        stack = Stack(config)
        console.print(f"starting the stack on {backend}...")
        stack.start()
        try:
            return asyncio.run(run(stack, scratch, count, concurrency, channels))
        finally:
            stack.stop()
            for name in created:
                drop_database(admin or "", name)


def show(backend: str, results: list[Result], count: int, concurrency: int) -> None:
    console.print(f"\nTCC on {backend}, {count} calls each, concurrency {concurrency}")
    console.print(
        f"{'measure':<30}{'per s':>10}{'p50 ms':>10}{'p99 ms':>10}"
        f"{'orders CPU ms':>15}{'inventory CPU ms':>18}"
    )
    for label, rate, p50, p99, orders_ms, inventory_ms in results:
        cpu = f"{orders_ms:>15.2f}{inventory_ms:>18.2f}" if orders_ms or inventory_ms else ""
        console.print(f"{label:<30}{rate:>10.0f}{p50:>10.2f}{p99:>10.2f}{cpu}")
    by = {label: (rate, p50, p99) for label, rate, p50, p99, _, _ in results}
    for kind in ("many SKUs", "one hot SKU"):
        place, pay = by[f"place (Try), {kind}"], by[f"pay (Confirm), {kind}"]
        pair_rate = 1 / (1 / place[0] + 1 / pay[0])
        console.print(f"{'place-and-pay, ' + kind:<30}{pair_rate:>10.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--channels", type=int, default=4, help="connections to orders")
    args = parser.parse_args()
    admin = os.environ.get("OMS_BENCH_POSTGRES_URL")
    runs = [("sqlite", None)] + ([("postgresql", admin)] if admin else [])
    for backend, url in runs:
        show(
            backend,
            bench(backend, url, args.orders, args.concurrency, args.channels),
            args.orders,
            args.concurrency,
        )
    if not admin:
        console.print(
            "(set OMS_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres "
            "to measure PostgreSQL too)"
        )


if __name__ == "__main__":
    main()
