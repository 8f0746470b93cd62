"""A gRPC service's process, from environment to shutdown, written once.

Every service's ``main`` is the same story: read and validate its settings (or exit
naming the bad variable), set up logging and tracing, start, serve until SIGTERM/SIGINT,
then stop gracefully, close what it opened and flush the traces. Each service passes
only what differs: its name, its settings class, how it starts and what it serves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from omslib.grpc_server.service import GrpcService, run_until_signalled
from omslib.security import GrpcSecurity
from omslib.settings import CommonSettings, load_settings
from omslib.telemetry import configure_logging, setup_tracing


class ServedSettings(Protocol):
    """What a service's settings say about where and how it serves."""

    host: str
    port: int
    worker_index: int | None


def service_server(
    settings: ServedSettings, name: str, error_domain: str, security: GrpcSecurity
) -> GrpcService:
    """The service's gRPC server on its configured address, with its security."""
    return GrpcService(
        name=name,
        host=settings.host,
        port=settings.port,
        error_domain=error_domain,
        # Workers started by omslib.workers.supervise share one port on purpose.
        share_port=settings.worker_index is not None,
        security=security,
    )


class Started(Protocol):
    """What a service's ``start`` returns: the server it runs and how to close the rest."""

    @property
    def server(self) -> GrpcService: ...

    async def close(self) -> None: ...


S = TypeVar("S", bound=CommonSettings)


async def serve(
    name: str, settings_type: type[S], start: Callable[[S], Awaitable[Started]]
) -> None:
    """Run one service process until it is signalled to stop."""
    settings = load_settings(settings_type)
    configure_logging(name, settings.log_level)
    provider = setup_tracing(name)
    started = await start(settings)

    async def flush_traces() -> None:
        provider.shutdown()

    await run_until_signalled(
        started.server,
        grace=settings.shutdown_grace_seconds,
        on_shutdown=[started.close, flush_traces],
    )
