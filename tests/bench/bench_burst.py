"""End-to-end burst: signed platform pushes -> gateway inbox -> delivery -> orders ->
inventory reservation, timed from the first push to the last reservation.

Starts the whole stack as processes (the runner of `make run`), stocks one SKU, sends
``--pushes`` signed shop pushes of new orders (one unit each) over 32 keep-alive
connections as fast as the gateway takes them, then waits until inventory reports
that many units reserved. Prints the intake rate, the end-to-end rate (orders
reserved per second, first push to last reservation) and the CPU milliseconds per
order of the gateway, orders and inventory processes (from /proc: robust on a shared
machine, unlike the rates). ``--delivery-concurrency`` sets
``OMS_GATEWAY_DELIVERY_CONCURRENCY`` (several values: one run each). Prints figures;
asserts nothing.

    .venv/bin/python tests/bench/bench_burst.py [--pushes 2000] [--delivery-concurrency 8 32]
    OMS_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python ...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import grpc
from oms.inventory.v1 import inventory_service_pb2, inventory_service_pb2_grpc
from oms_cli.stack import DEV_SHOP_SECRET, Stack, StackConfig
from omslib.testing.net import free_port
from omslib.testing.postgres import create_database, database_url, drop_database, fresh_name
from omslib.testing.stock import put_stock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gateway import exchange, push_request  # type: ignore[import-not-found]
from bench_tcc import process_cpu_seconds  # type: ignore[import-not-found]

SKU = "SKU-1"  # what bench_gateway's pushes order
SERVICES = ("gateway", "orders", "inventory")


async def burst(stack: Stack, pushes: int, connections: int) -> dict[str, float]:
    async with grpc.aio.insecure_channel(stack.addr("inventory")) as channel:
        inventory = inventory_service_pb2_grpc.InventoryServiceStub(channel)
        await put_stock(inventory, SKU, 10 * pushes, note="bench", actor="bench")
        requests = [push_request(DEV_SHOP_SECRET, n) for n in range(pushes)]  # signed up front
        pids = {s: stack.process(s).pid for s in SERVICES}
        cpu_before = {s: process_cpu_seconds(pid) for s, pid in pids.items()}
        started = time.perf_counter()
        pending = iter(requests)
        refused = 0

        async def sender() -> None:
            nonlocal refused
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", stack.config.ports["gateway"]
            )
            try:
                for request in pending:
                    refused += await exchange(reader, writer, request) != 202
            finally:
                writer.close()

        await asyncio.gather(*(sender() for _ in range(connections)))
        taken = time.perf_counter() - started
        request = inventory_service_pb2.GetAvailabilityRequest(skus=[SKU])
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            reply = await inventory.GetAvailability(request)
            if sum(w.reserved for w in reply.availabilities[0].warehouses) >= pushes - refused:
                break
            await asyncio.sleep(0.05)
        done = time.perf_counter() - started
        cpu_after = {s: process_cpu_seconds(pid) for s, pid in pids.items()}
    figures = {
        "intake per s": pushes / taken,
        "end to end per s": pushes / done,
        "refused": refused,
    }
    for service in SERVICES:
        figures[f"{service} CPU ms/order"] = (
            (cpu_after[service] - cpu_before[service]) * 1000 / pushes
        )
    return figures


def run(admin: str | None, pushes: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        created: list[str] = []
        urls: dict[str, str] = {}
        if admin:
            for service in ("orders", "inventory", "gateway", "aftersales"):
                name = fresh_name(f"burst_{service}")
                create_database(admin, name)
                created.append(name)
                urls[service] = database_url(admin, name)
        stack = Stack(
            StackConfig(
                var_dir=Path(tmp),
                ports={s: free_port() for s in ("gateway", "orders", "inventory", "aftersales")},
                database_urls=urls,
                extra_env={
                    "OMS_LOG_LEVEL": "WARNING",
                    "OTEL_TRACES_EXPORTER": "none",
                    "OMS_GATEWAY_DELIVERY_CONCURRENCY": str(concurrency),
                    # The burst is measured, not the platform's rate limit.
                    "OMS_GATEWAY_RATE_LIMIT": "off",
                },
            )
        )
        stack.start()
        try:
            return asyncio.run(burst(stack, pushes, connections=32))
        finally:
            stack.stop()
            for name in created:
                drop_database(admin or "", name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pushes", type=int, default=2000)
    parser.add_argument("--delivery-concurrency", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    admin = os.environ.get("OMS_BENCH_POSTGRES_URL")
    backend = "postgresql" if admin else "sqlite"
    for concurrency in args.delivery_concurrency:
        figures = run(admin, args.pushes, concurrency)
        print(f"\nburst of {args.pushes} pushes on {backend}, delivery concurrency {concurrency}")
        for name, value in figures.items():
            print(f"  {name:<28}{value:>10.2f}")


if __name__ == "__main__":
    main()
