"""Several processes of one service on one port (SO_REUSEPORT), to use more than one core.

``supervise("oms_orders", workers=2)`` runs ``python -m oms_orders`` twice as children
and watches them: SIGTERM/SIGINT are passed on (each child drains gracefully), and
when a child exits on its own the others are stopped too and the supervisor exits
non-zero, so that the process manager restarts the whole set rather than leaving a
service running at half strength without anyone noticing. Each child finds its
index in ``OMS_WORKER_INDEX``, read like any setting (``CommonSettings.worker_index``),
e.g. to run a job that must have one process only.

Each worker is a full replica (its own pool, recovery loops, jobs): only services
that are safe to run as several replicas may use this, and the port must be fixed
before the children start (with port 0 every child would pick its own; the gateway
binds a placeholder socket first to pick one). gRPC sets ``SO_REUSEPORT`` on its
listening sockets by default (``grpc.so_reuseport``); the gateway binds its own.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from omslib import event_loop

#: Set by the supervisor in each child: its index, 0 to workers - 1.
WORKER_ENV = "OMS_WORKER_INDEX"
#: How long a child may take to drain after SIGTERM before it is killed.
STOP_GRACE_SECONDS = 30.0
_PR_SET_PDEATHSIG = 1


def process_slot(port: int, worker_index: int | None) -> str | None:
    """A name for this process's place: host, port and worker index; None on port 0.

    Two live processes never share a slot (the second could not bind the port;
    workers on one port have distinct indices), so work leased under a slot when a
    process starts was left by a killed predecessor, and can be taken back at once
    instead of waiting for its leases to run out.
    """
    if not port:
        return None
    return f"{socket.gethostname()[:30]}:{port}:{worker_index or 0}"


def serve_workers(
    module: str,
    main: Callable[[], Coroutine[Any, Any, None]],
    *,
    workers: int,
    worker_index: int | None,
) -> int:
    """Run ``main`` here (one worker, or inside a child: ``worker_index`` set) or
    supervise ``workers`` children."""
    if workers <= 1 or worker_index is not None:
        event_loop.run(main())
        return 0
    return supervise(module, workers=workers)


def supervise(
    module: str,
    *,
    workers: int,
    env: Mapping[str, str] | None = None,
    stop_grace_seconds: float = STOP_GRACE_SECONDS,
) -> int:
    """Run ``python -m module`` ``workers`` times until a signal or a child's exit.

    Returns 0 when the set was stopped by SIGTERM/SIGINT and every child drained
    cleanly; otherwise the first failing child's exit code (128 + N for a child
    killed by signal N, as a shell reports it; 1 for a child that exited 0 on its
    own, since a worker leaving by itself is a failure of the set).
    """
    children = [
        subprocess.Popen(
            [sys.executable, "-m", module],
            env={**os.environ, **(env or {}), WORKER_ENV: str(index)},
            preexec_fn=_die_with_parent,
        )
        for index in range(workers)
    ]
    asked_to_stop = False
    # One stop signal per child: a second one can arrive after the child's interpreter
    # has restored the default handlers on its way out, and would kill it mid-drain.
    signalled: set[int] = set()

    def stop_children(signum: int) -> None:
        for child in children:
            if child.pid not in signalled and child.poll() is None:
                signalled.add(child.pid)
                child.send_signal(signum)

    def forward(signum: int, _frame: object) -> None:
        nonlocal asked_to_stop
        asked_to_stop = True
        stop_children(signum)

    previous = {
        signum: signal.signal(signum, forward) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        first = _wait_first(children)
        stopped_by_signal = asked_to_stop
        stop_children(signal.SIGTERM)  # one is gone: stop the others
        codes = [_reap(child, stop_grace_seconds) for child in children]
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    failures = [code for code in [first, *codes] if code != 0]
    if failures:
        return failures[0] if failures[0] > 0 else 128 - failures[0]
    return 0 if stopped_by_signal else 1


def _wait_first(children: list[subprocess.Popen[bytes]]) -> int:
    """Block until one child exits; its exit code (negative: killed by that signal)."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 0
        for child in children:
            if child.pid == pid:
                child.returncode = os.waitstatus_to_exitcode(status)
                return child.returncode


def _reap(child: subprocess.Popen[bytes], grace: float) -> int:
    try:
        return child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the supervisor dies (even by SIGKILL)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
