"""Statements and local transactions per place and per pay, in orders and in inventory.

Runs both services in this process (their real bootstraps, real gRPC servers on
port 0, their outbox relays and background jobs stopped so that only the calls'
own work is counted) and counts, per call, the statements each engine sends
(``before_cursor_execute``) and the transactions it commits. Calls run one at a
time, so nothing else is in flight. Counts do not depend on the machine's load;
they are what ``docs/tcc.md`` lists and justifies.

    .venv/bin/python tests/bench/bench_statements.py [--orders 20] [--show]
    OMS_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python tests/bench/bench_statements.py

``--show`` prints the statements of the last place and pay. ``--profile FILE``
writes a CPU-time profile of the counted calls (cProfile; functions by own and by
cumulative time).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc.aio
import uvloop
from bench_tcc import snapshot  # type: ignore[import-not-found]
from oms.inventory.v1 import inventory_service_pb2_grpc
from oms.orders.v1 import orders_service_pb2, orders_service_pb2_grpc
from oms_inventory import bootstrap as inventory_bootstrap
from oms_inventory.config import Settings as InventorySettings
from oms_orders import bootstrap as orders_bootstrap
from oms_orders.config import Settings as OrdersSettings
from omslib.ids import new_id
from omslib.redis_conn import EmbeddedRedis
from omslib.telemetry import setup_tracing
from omslib.testing.postgres import create_database, database_url, drop_database, fresh_name
from omslib.testing.stock import put_stock
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class Counter:
    """Statements and commits of one engine, with the texts of the current call."""

    statements: int = 0
    commits: int = 0
    texts: list[str] = field(default_factory=list)

    def attach(self, engine: AsyncEngine) -> None:
        def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            self.statements += 1
            self.texts.append(" ".join(statement.split())[:160])

        def commit(_conn: Any) -> None:
            self.commits += 1
            self.texts.append("COMMIT")

        event.listen(engine.sync_engine, "before_cursor_execute", before)
        event.listen(engine.sync_engine, "commit", commit)

    def reset(self) -> None:
        self.statements = self.commits = 0
        self.texts = []


@dataclass
class Tally:
    orders: list[tuple[int, int]] = field(default_factory=list)
    inventory: list[tuple[int, int]] = field(default_factory=list)
    cpu: float = 0.0


@contextlib.contextmanager
def databases(admin: str | None, tmp: Path) -> Iterator[tuple[str, str]]:
    if not admin:
        yield (
            f"sqlite+aiosqlite:///{tmp / 'orders.db'}",
            f"sqlite+aiosqlite:///{tmp / 'inventory.db'}",
        )
        return
    names = [fresh_name("stmt_orders"), fresh_name("stmt_inventory")]
    for name in names:
        create_database(admin, name)
    try:
        yield database_url(admin, names[0]), database_url(admin, names[1])
    finally:
        for name in names:
            drop_database(admin, name)


async def run(
    orders_url: str, inventory_url: str, redis_url: str, count: int, show: bool, profile: str
) -> None:
    inventory = await inventory_bootstrap.prepare(
        InventorySettings(
            OMS_INVENTORY_PORT=0, OMS_INVENTORY_DATABASE_URL=inventory_url, OMS_REDIS_URL=redis_url
        )
    )
    inventory_port = await inventory.server.start()  # no jobs, no relay: only the calls
    orders = await orders_bootstrap.start(
        OrdersSettings(
            OMS_ORDERS_PORT=0,
            OMS_ORDERS_DATABASE_URL=orders_url,
            OMS_REDIS_URL=redis_url,
            OMS_INVENTORY_ADDR=f"127.0.0.1:{inventory_port}",
        ),
        jobs=False,
    )
    await orders.orders._stop_relay()
    counters = {"orders": Counter(), "inventory": Counter()}
    counters["orders"].attach(orders.orders.engine)
    counters["inventory"].attach(inventory.engine)
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{inventory_port}") as inv_channel,
            grpc.aio.insecure_channel(f"127.0.0.1:{orders.port}") as orders_channel,
        ):
            stock = inventory_service_pb2_grpc.InventoryServiceStub(inv_channel)
            await put_stock(stock, "STMT-1", 10 * count + 10, note="bench", actor="bench")
            stub = orders_service_pb2_grpc.OrdersServiceStub(orders_channel)
            tallies = {"place": Tally(), "pay": Tally()}
            profiler = _profiler(profile)
            for i in range(count + 2):
                counted = i >= 2  # the first calls warm caches (statements, warehouses)
                if i == 2 and profiler is not None:
                    profiler.enable()
                order_id = f"stmt-{new_id()}"
                for c in counters.values():
                    c.reset()
                started = time.process_time()
                placed = await stub.SyncPlatformOrder(
                    orders_service_pb2.SyncPlatformOrderRequest(
                        request_id=f"bench:{order_id}", snapshot=snapshot(order_id, "STMT-1")
                    )
                )
                _record(tallies["place"], counters, time.process_time() - started, counted)
                place_texts = {k: list(c.texts) for k, c in counters.items()}
                for c in counters.values():
                    c.reset()
                started = time.process_time()
                await stub.RecordPayment(
                    orders_service_pb2.RecordPaymentRequest(
                        name=placed.order.name,
                        amount=placed.order.total,
                        payment_reference=f"PAY-{order_id}",
                    )
                )
                _record(tallies["pay"], counters, time.process_time() - started, counted)
            if profiler is not None:
                profiler.disable()
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats("tottime").print_stats(60)
                stats.sort_stats("cumulative").print_stats(150)
                await asyncio.to_thread(Path(profile).write_text, out.getvalue())
                print(f"profile written to {profile}")
            _print(tallies, count)
            if show:
                for what, texts in (("place", place_texts), ("pay", counters)):
                    for service in ("orders", "inventory"):
                        lines = texts[service] if what == "place" else counters[service].texts
                        print(f"\n-- {what}: {service}")
                        for line in lines:
                            print(f"   {line}")
    finally:
        await orders.stop(0)
        await inventory.server.stop(0)
        await inventory.close()


def _profiler(path: str) -> Any:
    """A CPU-time profiler (cProfile on ``process_time``): on a shared machine a sampling
    profiler's wall-clock samples also count the time the process waited for a core."""
    if not path:
        return None
    return cProfile.Profile(time.process_time)


def _record(tally: Tally, counters: dict[str, Counter], cpu: float, counted: bool) -> None:
    if not counted:
        return
    tally.orders.append((counters["orders"].statements, counters["orders"].commits))
    tally.inventory.append((counters["inventory"].statements, counters["inventory"].commits))
    tally.cpu += cpu


def _print(tallies: dict[str, Tally], count: int) -> None:
    print(f"\nper call, mean of {count} sequential calls (statements / commits):")
    print(f"{'call':<8}{'orders':>16}{'inventory':>16}{'CPU ms, all in process':>26}")
    for name, tally in tallies.items():
        o_stmt = sum(s for s, _ in tally.orders) / count
        o_tx = sum(t for _, t in tally.orders) / count
        i_stmt = sum(s for s, _ in tally.inventory) / count
        i_tx = sum(t for _, t in tally.inventory) / count
        print(
            f"{name:<8}{o_stmt:>10.1f} / {o_tx:<3.1f}{i_stmt:>10.1f} / {i_tx:<3.1f}"
            f"{tally.cpu * 1000 / count:>22.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--show", action="store_true", help="print the statements of one call")
    parser.add_argument("--profile", default="", help="write a CPU profile here")
    parser.add_argument(
        "--asyncio", action="store_true", help="asyncio's event loop (the services run uvloop's)"
    )
    args = parser.parse_args()
    admin = os.environ.get("OMS_BENCH_POSTGRES_URL")
    redis_url = os.environ.get("OMS_BENCH_REDIS_URL", "")
    # As the services run in the TCC benchmark: a tracer provider that exports nothing
    # (so statements are not traced), and the relays stopped (see run()).
    os.environ["OTEL_TRACES_EXPORTER"] = "none"
    setup_tracing("bench")
    with tempfile.TemporaryDirectory() as tmp, databases(admin, Path(tmp)) as (o_url, i_url):
        print(f"backend: {'postgresql' if admin else 'sqlite'}")
        embedded = None
        if not redis_url:  # the relays are stopped; Redis is only there for start-up
            embedded = EmbeddedRedis(Path(tmp) / "redis")
            redis_url = embedded.start()
        calls = run(o_url, i_url, redis_url, args.orders, args.show, args.profile)
        try:
            if args.asyncio:
                asyncio.run(calls)
            else:
                uvloop.run(calls)
        finally:
            if embedded is not None:
                embedded.stop()


if __name__ == "__main__":
    main()
