"""The worker supervisor, with real processes and real signals.

The supervisor runs as its own process (``python -c ...supervise(...)``) over children
that play a service: each records its worker index and pid, then waits for SIGTERM
and records that it drained.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PROBE = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path

    out = Path(os.environ["PROBE_DIR"])
    index = os.environ["OMS_WORKER_INDEX"]
    stopping = False

    def stop(_signum, _frame):
        global stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    (out / f"{index}.started").write_text(f"{os.getpid()} {os.environ['PROBE_EXTRA']}")
    while not stopping:
        time.sleep(0.02)
    (out / f"{index}.drained").write_text("")
    """
)

SUPERVISOR = (
    "import sys; from omslib.workers import supervise; "
    "sys.exit(supervise('probe_worker', workers=2, env={'PROBE_EXTRA': 'passed-on'}, "
    "stop_grace_seconds=5))"
)


@pytest.fixture
def probe_dir(tmp_path: Path) -> Path:
    (tmp_path / "probe_worker.py").write_text(PROBE)
    return tmp_path


@pytest.fixture
def supervisor(probe_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    path = os.pathsep.join([str(probe_dir), *sys.path])
    env = {**os.environ, "PROBE_DIR": str(probe_dir), "PYTHONPATH": path}
    env.pop("OMS_WORKER_INDEX", None)
    process = subprocess.Popen([sys.executable, "-c", SUPERVISOR], env=env)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def started_children(probe_dir: Path, count: int = 2) -> dict[str, int]:
    """Worker index -> pid, once every child has started."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        files = sorted(probe_dir.glob("*.started"))
        if len(files) == count and all(f.read_text() for f in files):
            return {f.stem: int(f.read_text().split()[0]) for f in files}
        time.sleep(0.05)
    raise AssertionError(f"children did not start: {sorted(p.name for p in probe_dir.iterdir())}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) still answers kill(0).
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[1][0] != "Z"


def wait_gone(pids: list[int], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {[p for p in pids if alive(p)]}"
        time.sleep(0.05)


def test_each_child_has_its_index_and_the_extra_environment(probe_dir, supervisor) -> None:
    children = started_children(probe_dir)

    assert sorted(children) == ["0", "1"]
    assert len(set(children.values())) == 2
    assert all(f.read_text().endswith(" passed-on") for f in probe_dir.glob("*.started"))


def test_sigterm_drains_every_child_and_exits_zero(probe_dir, supervisor) -> None:
    children = started_children(probe_dir)

    supervisor.send_signal(signal.SIGTERM)

    assert supervisor.wait(timeout=30) == 0
    assert sorted(p.name for p in probe_dir.glob("*.drained")) == ["0.drained", "1.drained"]
    wait_gone(list(children.values()))


def test_a_child_killed_stops_the_others_and_the_supervisor_fails(probe_dir, supervisor) -> None:
    children = started_children(probe_dir)

    os.kill(children["1"], signal.SIGKILL)

    assert supervisor.wait(timeout=30) == 128 + signal.SIGKILL
    assert [p.name for p in probe_dir.glob("*.drained")] == ["0.drained"]
    wait_gone(list(children.values()))


def test_children_do_not_outlive_a_killed_supervisor(probe_dir, supervisor) -> None:
    children = started_children(probe_dir)

    supervisor.kill()
    supervisor.wait()

    wait_gone(list(children.values()))
    assert sorted(p.name for p in probe_dir.glob("*.drained")) == ["0.drained", "1.drained"]
