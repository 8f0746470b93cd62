"""Helpers for gateway fault tests: the stack tuned to recover fast, and a private
throw-away PostgreSQL cluster that a test may stop and start."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from oms_cli.stack import Stack
from omslib.testing.net import free_port
from stack_support import start_stack

ADMIN_TOKEN = "fault-tests-admin-token-0123456789"

FAST_RECOVERY = {
    "OMS_GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
    "OMS_GATEWAY_RETRY_BASE_SECONDS": "0.2",
    "OMS_GATEWAY_RETRY_CAP_SECONDS": "1",
    "OMS_GATEWAY_RETRY_MAX_ATTEMPTS": "100000",  # never DEAD while a service is down
    "OMS_GATEWAY_DELIVERY_SWEEP_SECONDS": "0.2",
    "OMS_GATEWAY_DELIVERY_LEASE_SECONDS": "5",  # a killed replica's leases expire soon
    "OMS_GATEWAY_ORDERS_DEADLINE_SECONDS": "3",
    "OMS_GATEWAY_AFTERSALES_DEADLINE_SECONDS": "3",  # must stay under the lease too
    "OMS_GATEWAY_RATE_LIMIT": "off",
}

PG_BIN = Path("/usr/local/bin")


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb + pg_ctl, as the postgres user, on a free
    port under /tmp), so a test can stop it without touching the machine's server."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="oms-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "start", "-w", "-D", str(self.data),
            "-l", str(self.dir / "server.log"), "-o", options,
        )  # fmt: skip

    def stop(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data))

    def destroy(self) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "stop", "-m",
             "immediate", "-D", str(self.data)],
            capture_output=True, check=False,
        )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=self.dir)


def fault_stack(
    var_dir: Path,
    database_url: Callable[[str], str],
    redis_url: str,
    gateway_database_url: str | None = None,
) -> Stack:
    def urls(name: str) -> str:
        if name == "gateway" and gateway_database_url:
            return gateway_database_url
        return database_url(name)

    return start_stack(var_dir, urls, redis_url, extra_env=FAST_RECOVERY)
