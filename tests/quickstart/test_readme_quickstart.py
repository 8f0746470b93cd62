"""The README's quick start, command by command, as a new user runs it.

A fresh clone of this repository's HEAD in a temporary folder; `make run` there
(bootstrapping uv, the runtime-only virtualenv and the generated code from
nothing) on custom ports, while another program holds the default orders port and
nothing is assumed about Redis on 6379; then every command of the README's quick
start in another "terminal" (no port variables: the commands must find the stack
by themselves), each output checked; then Ctrl-C, after which nothing may be left.

Each command the README shows must have an expectation below, so the README and
this test change together.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from omslib.testing.net import free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(os.environ.get("OMS_TEST_POSTGRES_URL") or os.environ.get("OMS_TEST_REDIS_URL")),
        reason="the quick start uses no database or Redis server: it runs once, in the bare "
        "phase (it bootstraps a whole clone, too slow to repeat for nothing)",
    ),
    pytest.mark.timeout(600),
]

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "orders", "inventory", "aftersales")
DEFAULT_ORDERS_PORT = 50051
BOOTSTRAP_SECONDS = 420  # first `make run`: uv, the virtualenv, generated code, start-up
SETTLE_SECONDS = 30  # a push is delivered after the gateway answered: let it land

Check = Callable[[str], bool]


def _stock_reserved(units: int) -> Check:
    def check(out: str) -> bool:
        total = next((line for line in out.splitlines() if "total" in line), "")
        numbers = [int(n) for n in re.findall(r"\d+", total)]
        return len(numbers) == 3 and numbers[1] == units

    return check


def _has(*texts: str) -> Check:
    return lambda out: all(text in out for text in texts)


#: README command (as written, comments stripped) -> what its output must show.
EXPECTED: dict[str, Check] = {
    ".venv/bin/oms send shop --sku TEE-WHITE-M:2 --order-id A1001": _has("answered 202"),
    ".venv/bin/oms order get platforms/shop/orders/A1001": _has("A1001", "PENDING_PAYMENT"),
    ".venv/bin/oms stock get TEE-WHITE-M": _stock_reserved(2),
    ".venv/bin/oms stock list": _has("TEE-WHITE-M", "MUG-CLASSIC", "catalogue"),
    ".venv/bin/oms order pay platforms/shop/orders/A1001": _has("ALLOCATED"),
    '.venv/bin/oms send shop --sku MUG-CLASSIC:1 --order-id A1002 --phone ""': _has("answered 202"),
    ".venv/bin/oms order pay platforms/shop/orders/A1002": _has("IN_REVIEW", "INCOMPLETE_ADDRESS"),
    ".venv/bin/oms order approve platforms/shop/orders/A1002": _has("ALLOCATED"),
    ".venv/bin/oms events tail": _has("oms.orders", "OrderCreated", "A1001"),
    ".venv/bin/oms inbox list": _has("shop", "DELIVERED"),
}


def quick_start_commands(readme: str) -> list[str]:
    """The shell commands of the README's "Quick start" section, in order."""
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                commands.append(command)
    return commands


@pytest.fixture
def default_orders_port_taken() -> Iterator[None]:
    """Another program on the default orders port (or it is taken already)."""
    with socket.socket() as other:
        with contextlib.suppress(OSError):
            other.bind(("127.0.0.1", DEFAULT_ORDERS_PORT))
            other.listen()
        yield


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    target = tmp_path / "order-hub"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(target)],
        check=True,
        timeout=120,
    )
    return target


def _user_env() -> dict[str, str]:
    """A shell without any of our variables (a new user's)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OMS_", "OTEL_", "VIRTUAL_ENV", "PYTEST", "UV_PROJECT"))
    }


class Terminal:
    """`make run` in the first terminal: its output, and the processes it started."""

    def __init__(self, clone: Path, ports: dict[str, int]) -> None:
        env = _user_env() | {f"OMS_{s.upper()}_PORT": str(p) for s, p in ports.items()}
        self.log = clone / "make-run.out"
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text():
            if self.proc.poll() is not None:
                raise AssertionError(f"`make run` ended:\n{self.text()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} from `make run`:\n{self.text()[-4000:]}")
            time.sleep(0.5)

    def processes(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def kill_all(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._out.close()


def run_command(clone: Path, command: str, check: Check) -> str:
    """Run one README command in a fresh shell; retry while a push is still being delivered."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=clone,
            env=_user_env() | {"COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        out = done.stdout + done.stderr
        assert "Traceback" not in out, f"{command}\n{out}"
        if done.returncode == 0 and check(out):
            return out
        if time.monotonic() > deadline:
            raise AssertionError(f"{command} (exit {done.returncode}) printed:\n{out}")
        time.sleep(1)


def test_the_readme_quick_start_works_as_written(
    clone: Path, default_orders_port_taken: None
) -> None:
    commands = quick_start_commands((clone / "README.md").read_text())
    assert commands[0] == "make run"
    missing = [c for c in commands[1:] if c not in EXPECTED]
    assert missing == [], "README quick start commands this test does not check"

    ports = {service: free_port() for service in SERVICES}
    terminal = Terminal(clone, ports)
    try:
        terminal.wait_for("Ctrl-C stops everything", BOOTSTRAP_SECONDS)
        banner = terminal.text()
        for service in SERVICES:
            assert str(ports[service]) in banner, f"the banner shows {service}'s port"
        assert f":{DEFAULT_ORDERS_PORT}" not in banner
        assert "var/admin-token" in banner

        # `make run` installed what running needs, not the development tools.
        for tool in ("pytest", "mypy", "ruff"):
            assert not (clone / ".venv" / "bin" / tool).exists(), f"{tool} installed by run"

        outputs = [run_command(clone, command, EXPECTED[command]) for command in commands[1:]]

        # No output anywhere holds the admin token `make run` made.
        token = (clone / "var" / "admin-token").read_text().strip()
        assert len(token) >= 16
        for text in [terminal.text(), *outputs]:
            assert token not in text

        children = terminal.processes()
        assert any("redis-server" in " ".join(c.cmdline()) for c in children)
        stop_and_check_nothing_is_left(terminal, children, clone)
    finally:
        terminal.kill_all()

    # `make test`'s set-up after `make run` adds the development tools; `make run`
    # after it keeps them and starts again on the same databases and token.
    subprocess.run(["make", "setup"], cwd=clone, env=_user_env(), check=True, timeout=300)
    assert (clone / ".venv" / "bin" / "pytest").exists()
    again = Terminal(clone, ports)
    try:
        again.wait_for("Ctrl-C stops everything", BOOTSTRAP_SECONDS)
        assert (clone / ".venv" / "bin" / "pytest").exists()
        assert (clone / "var" / "admin-token").read_text().strip() == token
        run_command(clone, ".venv/bin/oms order get platforms/shop/orders/A1001", _has("ALLOCATED"))
        stop_and_check_nothing_is_left(again, again.processes(), clone)
    finally:
        again.kill_all()


def stop_and_check_nothing_is_left(
    terminal: Terminal, children: list[psutil.Process], clone: Path
) -> None:
    os.killpg(terminal.proc.pid, signal.SIGINT)  # Ctrl-C: the terminal's foreground group
    terminal.proc.wait(timeout=60)
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], f"left running: {[p.cmdline() for p in alive]}"
    assert not (clone / "var" / "stack.json").exists()
