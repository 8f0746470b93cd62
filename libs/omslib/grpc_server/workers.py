"""Several processes of one service on one port (SO_REUSEPORT), to use more than one core.

``serve_workers("oms_orders", main, workers=2)`` runs ``python -m oms_orders`` twice
as children and supervises them: SIGTERM/SIGINT are passed on, and when one child
exits on its own the others are stopped and its exit code is returned. gRPC sets
``SO_REUSEPORT`` on its listening sockets by default (``grpc.so_reuseport``), so
the kernel spreads new connections over the workers. Each worker is a full
replica (its own pool, recovery loop, jobs): only services that are safe to run
as several replicas may use it, and the port must be fixed (with port 0 every
worker would pick its own). With ``workers <= 1`` this is just ``asyncio.run(main())``.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from omslib.settings import env_number

WORKER_ENV = "OMS_WORKER_INDEX"
_PR_SET_PDEATHSIG = 1


def workers_from_env(name: str, default: int = 1) -> int:
    """The worker count in ``name`` (e.g. OMS_ORDERS_WORKERS); ``default`` when unset."""
    return env_number(name, default, minimum=1)


def serve_workers(
    module: str, main: Callable[[], Coroutine[Any, Any, None]], *, workers: int
) -> int:
    """Run ``main`` here (one worker, or inside a child) or supervise ``workers`` children."""
    if workers <= 1 or os.environ.get(WORKER_ENV):
        asyncio.run(main())
        return 0
    children = [
        subprocess.Popen(
            [sys.executable, "-m", module],
            env={**os.environ, WORKER_ENV: str(index)},
            preexec_fn=_die_with_parent,
        )
        for index in range(workers)
    ]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    code = _wait_first(children)
    forward(signal.SIGTERM, None)  # one is gone: stop the others (no-op when all are)
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return code


def _wait_first(children: list[subprocess.Popen[bytes]]) -> int:
    """Block until one child exits; its exit code."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 0
        for child in children:
            if child.pid == pid:
                child.returncode = os.waitstatus_to_exitcode(status)
                return child.returncode


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the supervisor dies (even by SIGKILL)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
