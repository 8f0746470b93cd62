"""Benchmark of the gateway's intake: signed shop pushes verified and committed to the
inbox, per second, with p50/p99 latency, next to a floor measured in the same run (a
bare ``GET /healthz`` on the same gateway process: HTTP server, framework and client
cost without verification or storage).

The gateway runs as its own process (``python -m oms_gateway``), on SQLite, then on
PostgreSQL too when OMS_BENCH_POSTGRES_URL names a server (a fresh database, dropped
after), there with one gateway process and with ``--workers`` processes sharing the
port (``OMS_GATEWAY_WORKERS``; SQLite allows only one). Further rows add the delivery
worker and the Redis rate limiter (an embedded redis-server, limit high enough never
to refuse). Orders is not running: every stored push gets one failed delivery attempt
and is then parked for 10 minutes (retry base 600 s, delivery concurrency 1), so the
figures are intake figures with a small, constant delivery overhead. The load generator
is a minimal keep-alive HTTP/1.1 client on asyncio streams (httpx would be the
bottleneck). Prints figures; asserts nothing.

    .venv/bin/python tests/bench/bench_gateway.py [--pushes 5000] [--concurrency 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omslib.ids import new_id
from omslib.platforms.samples.shop import new_secret, sample_shop_order, sign_standard_webhook
from omslib.redis_conn import EmbeddedRedis
from omslib.testing.net import free_port
from omslib.testing.postgres import create_database, database_url, drop_database, fresh_name

console = Console()
Row = tuple[str, float, float, float]


@contextmanager
def gateway(db_url: str, secret: str, folder: Path, **env: str) -> Iterator[int]:
    port = free_port()
    environment = dict(
        os.environ,
        OMS_GATEWAY_PORT=str(port),
        OMS_GATEWAY_HOST="127.0.0.1",
        OMS_GATEWAY_DATABASE_URL=db_url,
        OMS_ORDERS_ADDR=f"127.0.0.1:{free_port()}",
        OMS_PLATFORM_SHOP_SECRET=secret,
        OMS_GATEWAY_DELIVERY_CONCURRENCY="1",
        OMS_GATEWAY_RETRY_BASE_SECONDS="600",
        OMS_GATEWAY_RETRY_CAP_SECONDS="600",
        OMS_GATEWAY_DELIVERY_LEASE_SECONDS="700",
        OMS_LOG_LEVEL="ERROR",
        OTEL_TRACES_EXPORTER="none",
        **env,
    )
    log = (folder / f"gateway-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "oms_gateway"], env=environment, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"gateway exited; see {log.name}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def push_request(secret: str, n: int) -> bytes:
    body = json.dumps(sample_shop_order(f"B{n}-{new_id()}", [("SKU-1", 1)])).encode()
    headers = sign_standard_webhook(secret, f"msg_{new_id()}", int(time.time()), body)
    lines = [
        b"POST /webhooks/shop HTTP/1.1",
        b"host: bench",
        f"content-length: {len(body)}".encode(),
    ]
    lines += [f"{name}: {value}".encode() for name, value in headers.items()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


HEALTH = b"GET /healthz HTTP/1.1\r\nhost: bench\r\n\r\n"


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, req: bytes) -> int:
    writer.write(req)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def measure(label: str, port: int, requests: list[bytes], concurrency: int) -> Row:
    latencies: list[float] = []
    failures: dict[int, int] = {}
    queue = iter(requests)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for req in queue:
                started = time.perf_counter()
                status = await exchange(reader, writer, req)
                latencies.append(time.perf_counter() - started)
                if status >= 300:
                    failures[status] = failures.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        console.print(f"[red]{label}: unexpected answers {failures}[/red]")
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    return label, len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


async def bench(port: int, secret: str, pushes: int, concurrency: int, label: str) -> list[Row]:
    warm = [push_request(secret, n) for n in range(200)]
    await measure("warm-up", port, warm, concurrency)
    floor = await measure("floor: GET /healthz", port, [HEALTH] * pushes, concurrency)
    requests = [push_request(secret, n) for n in range(pushes)]
    return [floor, await measure(label, port, requests, concurrency)]


def run_backend(backend: str, admin: str | None, args: argparse.Namespace, tmp: Path) -> None:
    secret = new_secret()
    created: list[str] = []

    def fresh_url(tag: str) -> str:
        if admin is None:
            return f"sqlite+aiosqlite:///{tmp / (tag + '.db')}"
        name = fresh_name(f"bench_gw_{tag}")
        create_database(admin, name)
        created.append(name)
        return database_url(admin, name)

    # SQLite takes one writer process: several workers need PostgreSQL.
    counts = [1] if admin is None else sorted({1, args.workers})
    redis = EmbeddedRedis(tmp / "redis")
    blocks: list[tuple[int, list[Row]]] = []
    try:
        for workers in counts:
            rows: list[Row] = []
            procs = {"OMS_GATEWAY_WORKERS": str(workers)}
            intake_only = {
                "OMS_GATEWAY_RATE_LIMIT": "off",
                "OMS_GATEWAY_DELIVERY_ENABLED": "false",
                **procs,
            }
            with gateway(fresh_url(f"intake{workers}"), secret, tmp, **intake_only) as port:
                rows += asyncio.run(
                    bench(port, secret, args.pushes, args.concurrency, "push: verified + stored")
                )
            if workers == counts[-1]:
                plain = {"OMS_GATEWAY_RATE_LIMIT": "off", **procs}
                with gateway(fresh_url(f"plain{workers}"), secret, tmp, **plain) as port:
                    rows += asyncio.run(
                        bench(
                            port, secret, args.pushes, args.concurrency, "  + one delivery attempt"
                        )
                    )[1:]
                redis_url = redis.start()
                limited = {
                    "OMS_REDIS_URL": redis_url,
                    "OMS_GATEWAY_RATE_LIMIT": "1000000:1000000",
                    **procs,
                }
                with gateway(fresh_url(f"limited{workers}"), secret, tmp, **limited) as port:
                    rows += asyncio.run(
                        bench(port, secret, args.pushes, args.concurrency, "  + Redis rate limit")
                    )[1:]
            blocks.append((workers, rows))
    finally:
        redis.stop()
        for name in created:
            drop_database(admin or "", name)
    for workers, rows in blocks:
        console.print(f"\ngateway intake on {backend}, OMS_GATEWAY_WORKERS={workers}")
        console.print(f"{args.pushes} requests per row, {args.concurrency} keep-alive connections")
        console.print(f"{'measure':<28}{'per s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs floor':>10}")
        for label, rate, p50, p99 in rows:
            console.print(
                f"{label:<28}{rate:>10.0f}{p50:>10.2f}{p99:>10.2f}{rate / rows[0][1]:>10.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pushes", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="also measure PostgreSQL with this many gateway processes (OMS_GATEWAY_WORKERS)",
    )
    args = parser.parse_args()
    admin = os.environ.get("OMS_BENCH_POSTGRES_URL")
    with tempfile.TemporaryDirectory() as tmp:
        run_backend("sqlite", None, args, Path(tmp))
    if admin:
        with tempfile.TemporaryDirectory() as tmp:
            run_backend("postgresql", admin, args, Path(tmp))
    else:
        console.print("(set OMS_BENCH_POSTGRES_URL to measure PostgreSQL too)")


if __name__ == "__main__":
    main()
