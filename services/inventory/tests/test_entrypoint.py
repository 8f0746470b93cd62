"""`python -m oms_inventory`: migrates its database, serves health and reflection, logs JSON,
and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from omslib.testing.net import free_port


def _wait_serving(addr: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(addr) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            assert process.poll() is None, "the service exited during start-up"
            try:
                reply = health.Check(
                    health_pb2.HealthCheckRequest(service="oms.inventory.v1.InventoryService"),
                    timeout=1,
                )
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise AssertionError("inventory never became SERVING")


def _listed_services(addr: str) -> set[str]:
    with grpc.insecure_channel(addr) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        return {s.name for reply in replies for s in reply.list_services_response.service}


def test_the_module_serves_until_sigterm(
    tmp_path: Path, make_database_url: Callable[[str], str]
) -> None:
    port = free_port()
    addr = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "OMS_INVENTORY_PORT": str(port),
        "OMS_INVENTORY_DATABASE_URL": make_database_url("inventory_main"),
        "OMS_SHUTDOWN_GRACE_SECONDS": "1",
        "OTEL_TRACES_EXPORTER": "none",
    }
    log_path = tmp_path / "inventory.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "oms_inventory"], env=env, stdout=log, stderr=log, cwd=tmp_path
        )
        try:
            _wait_serving(addr, process)
            assert "oms.inventory.v1.InventoryService" in _listed_services(addr)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert any(r["msg"].startswith("inventory listening") for r in records)
    assert all(r["service"] == "inventory" for r in records)


def test_bad_configuration_fails_fast_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "OMS_INVENTORY_PORT": "not-a-port"}
    done = subprocess.run(
        [sys.executable, "-m", "oms_inventory"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "OMS_INVENTORY_PORT" in done.stderr
