"""`oms dev up` (`make run`) leaves nothing behind, however it ends.

The runner is really started (every service and the embedded redis-server as
processes) and really ended: closing the terminal (SIGHUP), `kill` (SIGTERM) and
SIGKILL, which it cannot catch, so its children must notice on their own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from oms_cli.local_stack import running_stack
from omslib.testing.net import free_port

pytestmark = pytest.mark.e2e

SERVICES = ("gateway", "orders", "inventory", "aftersales")


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Runner:
    proc: subprocess.Popen[bytes]
    children: list[psutil.Process]
    state_file: Path


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    """A running `oms dev up` (no Redis given: it starts its own) and its children."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMS_", "OTEL_"))}
    env.update({f"OMS_{name.upper()}_PORT": str(free_port()) for name in SERVICES})
    var = tmp_path / "var"
    proc = subprocess.Popen(
        [sys.executable, "-m", "oms_cli.main", "dev", "up", "--var", str(var), "--no-seed"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    children: list[psutil.Process] = []
    try:
        _wait(lambda: (var / "stack.json").exists() or proc.poll() is not None, 120, "start")
        assert proc.poll() is None, "the runner ended during start-up"
        children = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "redis-server" in names and all(f"oms_{s}" in names for s in SERVICES)
        yield Runner(proc, children, var / "stack.json")
    finally:
        for process in [psutil.Process(proc.pid), *children] if proc.poll() is None else children:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        proc.wait()


def _gone(processes: list[psutil.Process]) -> bool:
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_every_stop_signal_stops_every_child_and_the_runner(
    runner: Runner, sig: signal.Signals
) -> None:
    runner.proc.send_signal(sig)
    assert runner.proc.wait(timeout=60) == 0
    _wait(lambda: _gone(runner.children), 30, "every child to exit")
    assert not runner.state_file.exists(), "a stopped stack must not be advertised to the CLI"


def test_children_exit_when_the_runner_is_killed(runner: Runner) -> None:
    runner.proc.kill()  # SIGKILL: the runner cannot stop anything itself
    runner.proc.wait(timeout=10)
    _wait(lambda: _gone(runner.children), 30, "every child, redis-server included, to exit")
    # The file outlives the killed runner, but no command trusts it any more.
    assert json.loads(runner.state_file.read_text())["pid"] == runner.proc.pid
    assert running_stack(runner.state_file) is None
