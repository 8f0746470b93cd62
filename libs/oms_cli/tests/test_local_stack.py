"""Every command finds the local stack `make run` started, and honours each variable."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from oms_cli import local_stack
from oms_cli.dev_credentials import ensure_admin_token
from oms_cli.local_stack import LocalStack
from oms_cli.main import app
from typer.testing import CliRunner

SERVICE_VARS = [
    f"OMS_{name}_{kind}"
    for name in ("GATEWAY", "ORDERS", "INVENTORY", "AFTERSALES")
    for kind in ("ADDR", "PORT", "URL")
] + ["OMS_REDIS_URL", "OMS_GATEWAY_ADMIN_TOKEN"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)
    state = tmp_path / "var" / "stack.json"
    monkeypatch.setenv(local_stack.STATE_FILE_ENV, str(state))
    return state


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _stack(pid: int, token_file: Path | None = None) -> LocalStack:
    return LocalStack(
        pid=pid,
        gateway_url="http://127.0.0.1:18080",
        addrs={"orders": "127.0.0.1:15051", "inventory": "127.0.0.1:15052"},
        redis_url="redis://127.0.0.1:16379/0",
        admin_token_file=str(token_file) if token_file else None,
    )


def test_commands_use_the_running_stack_s_addresses(clean_env: Path) -> None:
    _stack(os.getpid()).write(clean_env)
    assert local_stack.service_addr("orders") == "127.0.0.1:15051"
    assert local_stack.gateway_url() == "http://127.0.0.1:18080"
    assert local_stack.redis_url() == "redis://127.0.0.1:16379/0"


def test_a_stack_whose_runner_died_is_ignored(clean_env: Path) -> None:
    _stack(_dead_pid()).write(clean_env)
    assert local_stack.service_addr("orders") == "127.0.0.1:50051"
    assert local_stack.redis_url() == "redis://127.0.0.1:6379/0"


def test_variables_win_over_the_state_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack(os.getpid()).write(clean_env)
    monkeypatch.setenv("OMS_ORDERS_PORT", "25051")
    monkeypatch.setenv("OMS_GATEWAY_PORT", "28080")
    monkeypatch.setenv("OMS_INVENTORY_ADDR", "10.0.0.9:50052")
    assert local_stack.service_addr("orders") == "127.0.0.1:25051"
    assert local_stack.service_addr("inventory") == "10.0.0.9:50052"
    assert local_stack.gateway_url() == "http://127.0.0.1:28080"
    assert local_stack.service_addr("orders", "given:1") == "given:1"


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port nothing listens on (bound, never listening, so no one else takes it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_an_unreachable_service_is_reported_at_its_custom_port(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, refused_port: int
) -> None:
    monkeypatch.setenv("OMS_ORDERS_PORT", str(refused_port))
    result = CliRunner().invoke(app, ["order", "get", "A1"])
    assert result.exit_code == 1
    assert f"127.0.0.1:{refused_port}" in result.output
    monkeypatch.setenv("OMS_GATEWAY_PORT", str(refused_port))
    result = CliRunner().invoke(app, ["send", "shop"])
    assert result.exit_code == 1
    assert f"cannot reach the gateway at http://127.0.0.1:{refused_port}" in result.output


@pytest.mark.parametrize("args", [["--redis"], ["--redis", "oms.orders"]])
def test_redis_without_a_url_is_a_usage_error(clean_env: Path, args: list[str]) -> None:
    result = CliRunner().invoke(app, ["events", "tail", *args])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_the_admin_token_comes_from_make_run_s_file(clean_env: Path) -> None:
    token_file = ensure_admin_token(clean_env.parent)
    assert token_file.stat().st_mode & 0o077 == 0, "the token file is the owner's only"
    assert ensure_admin_token(clean_env.parent).read_text() == token_file.read_text()
    _stack(os.getpid(), token_file).write(clean_env)
    token, where = local_stack.admin_token()
    assert token == token_file.read_text().strip() and len(token) >= 16
    assert where == str(token_file)
