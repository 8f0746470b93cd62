"""Composition root of the aftersales service: the one place that builds things."""

from __future__ import annotations

from dataclasses import dataclass

from oms.aftersales.v1 import aftersales_service_pb2, aftersales_service_pb2_grpc
from omslib.grpc_server import GrpcService, run_until_signalled
from omslib.settings import load_settings
from omslib.telemetry import configure_logging, setup_tracing

from oms_aftersales.config import Settings
from oms_aftersales.entrypoints.grpc_servicer import AftersalesServicer

SERVICE_NAME = "aftersales"
ERROR_DOMAIN = "aftersales.oms"


@dataclass
class Running:
    """A started aftersales server; tests use `port` and `stop()`."""

    server: GrpcService
    port: int

    async def stop(self, grace: float = 1.0) -> None:
        await self.server.stop(grace)


async def start(settings: Settings) -> Running:
    """Build and start the server (port 0 picks a free port)."""
    server = GrpcService(
        name=SERVICE_NAME,
        host=settings.host,
        port=settings.port,
        error_domain=ERROR_DOMAIN,
        security=settings.grpc_security(SERVICE_NAME),
    )
    server.add(
        aftersales_service_pb2_grpc.add_AftersalesServiceServicer_to_server,
        # The generated stubs mark every RPC abstract; the runtime base class answers
        # UNIMPLEMENTED for the ones not built yet, which is what we want.
        AftersalesServicer(),  # type: ignore[abstract]
        aftersales_service_pb2.DESCRIPTOR.services_by_name["AftersalesService"].full_name,
    )
    port = await server.start()
    return Running(server=server, port=port)


async def main() -> None:
    settings = load_settings(Settings)
    configure_logging(SERVICE_NAME, settings.log_level)
    provider = setup_tracing(SERVICE_NAME)
    running = await start(settings)
    try:
        await run_until_signalled(running.server, grace=settings.shutdown_grace_seconds)
    finally:
        provider.shutdown()
