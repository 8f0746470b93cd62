"""One running gRPC server with health, reflection and graceful shutdown built in."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from omslib.grpc_server.authz_interceptor import AuthorizationInterceptor
from omslib.grpc_server.errors_interceptor import ErrorMappingInterceptor
from omslib.grpc_server.reflection import enable_reflection
from omslib.grpc_server.validation_interceptor import ValidationInterceptor
from omslib.security import GrpcSecurity
from omslib.telemetry.instrument import instrument_grpc_server

log = logging.getLogger(__name__)

HEALTH_SERVICE_NAME = "grpc.health.v1.Health"

# Clients (omslib.grpc_client) ping every 60s while calls are active; allow it,
# otherwise the server answers GOAWAY "too_many_pings".
SERVER_OPTIONS: Sequence[tuple[str, Any]] = (
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
)


class PortInUse(SystemExit):
    """The service's port is held by another process.

    A SystemExit, so that ``python -m oms_<service>`` ends with this message and
    exit code 1 instead of a traceback, whichever entry point started it.
    """


def refuse_port_in_use(name: str, host: str, port: int, variable: str) -> None:
    """Raise PortInUse if another process listens on ``host:port`` (for HTTP servers,
    which report a taken port as a bare "address already in use")."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                return  # not ours to judge: the server reports it
            message = (
                f"{name} cannot listen on {host}:{port}: the port is in use by another "
                f"process; set {variable} to a free port"
            )
            log.error(message)
            raise PortInUse(message) from None


def server_options(*, share_port: bool) -> list[tuple[str, Any]]:
    """Channel options of a server; ``share_port`` only for workers of one service.

    gRPC sets SO_REUSEPORT by default, so a second process on a port in use would
    bind "successfully" and the kernel would split the calls between the two.
    """
    return [*SERVER_OPTIONS, ("grpc.so_reuseport", 1 if share_port else 0)]


class GrpcService:
    """Build with ``add(...)`` calls, then ``await start()``; stop with ``await stop(grace)``."""

    def __init__(
        self,
        *,
        name: str,
        host: str = "127.0.0.1",
        port: int,
        error_domain: str,
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        port_variable: str | None = None,
        share_port: bool = False,
        security: GrpcSecurity | None = None,
    ) -> None:
        self.name = name
        #: The variable a user changes to move the service (named when the port is taken).
        self.port_variable = port_variable or f"OMS_{name.upper()}_PORT"
        # Only workers started by omslib.workers.supervise share one port (their
        # settings say so: CommonSettings.worker_index).
        self.share_port = share_port
        # Bare (plaintext, no authorization) unless the composition root says otherwise.
        self.security = security or GrpcSecurity.bare(name)
        self.host = host
        self.port = port
        self.error_domain = error_domain
        self._interceptors = list(interceptors)
        self._services: list[tuple[Callable[[Any, grpc.aio.Server], None], Any, str]] = []
        self._health = HealthServicer()
        self._server: grpc.aio.Server | None = None
        self.bound_port: int | None = None

    def add(
        self,
        add_to_server: Callable[[Any, grpc.aio.Server], None],
        servicer: Any,
        full_service_name: str,
    ) -> None:
        """Register a servicer, e.g. ``add(add_OrdersServiceServicer_to_server, s, name)``."""
        if self._server is not None:
            raise RuntimeError("GrpcService.add() after start()")
        self._services.append((add_to_server, servicer, full_service_name))

    @property
    def service_names(self) -> list[str]:
        return [name for _, _, name in self._services]

    async def start(self) -> int:
        """Bind, start serving and mark every service SERVING; returns the bound port."""
        if self._server is not None:
            raise RuntimeError("GrpcService already started")
        # Must precede grpc.aio.server(): the instrumentor wraps that factory.
        instrument_grpc_server()
        self.security.check_bind(self.host)
        server = grpc.aio.server(
            interceptors=[
                ErrorMappingInterceptor(self.error_domain),
                AuthorizationInterceptor(self.security),
                ValidationInterceptor(self.error_domain),
                *self._interceptors,
            ],
            options=server_options(share_port=self.share_port),
        )
        for add_to_server, servicer, _ in self._services:
            add_to_server(servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        enable_reflection(
            [*self.service_names, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME], server
        )
        bound = self._bind(server)
        await server.start()
        self._server, self.bound_port = server, bound
        for name in ["", *self.service_names]:
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "%s listening on %s:%d (%s)", self.name, self.host, bound, self.security.mode.value
        )
        return bound

    def _bind(self, server: grpc.aio.Server) -> int:
        address = f"{self.host}:{self.port}"
        credentials = self.security.server_credentials()
        try:
            bound = (
                server.add_secure_port(address, credentials)
                if credentials is not None
                else server.add_insecure_port(address)
            )
        except RuntimeError:  # grpc raises "Failed to bind" in recent versions
            bound = 0
        if bound == 0:
            message = (
                f"{self.name} cannot listen on {self.host}:{self.port}: the port is in use "
                f"by another process (or the address is not this machine's); set "
                f"{self.port_variable} to a free port"
            )
            log.error(message)
            raise PortInUse(message)
        return bound

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING everywhere, then let in-flight RPCs finish within ``grace``."""
        if self._server is None:
            return
        await self._health.enter_graceful_shutdown()
        await self._server.stop(grace)
        log.info("%s stopped", self.name)

    async def wait_for_termination(self) -> None:
        if self._server is None:
            raise RuntimeError("GrpcService not started")
        await self._server.wait_for_termination()


async def run_until_signalled(
    service: GrpcService,
    *,
    grace: float,
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
) -> None:
    """Serve until SIGTERM/SIGINT (or the server ends), then stop gracefully.

    Starts ``service`` if it is not started yet. ``on_shutdown`` callbacks run in
    order after the server stopped (close pools, flush tracing...); a failing
    callback is logged and does not prevent the others.
    """
    if service.bound_port is None:
        await service.start()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stopping.set)
    waiters = [
        asyncio.create_task(stopping.wait()),
        asyncio.create_task(service.wait_for_termination()),
    ]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        log.info("%s shutting down (grace %.1fs)", service.name, grace)
        await service.stop(grace)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        for task in waiters:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for callback in on_shutdown:
            try:
                await callback()
            except Exception:
                log.exception("shutdown callback %r failed", callback)
