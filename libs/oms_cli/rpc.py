"""Small helpers for CLI commands that call the services over gRPC."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
import typer
from omslib.grpc_client import service_channel
from omslib.grpc_errors import remote_error
from omslib.security.config import SecuritySettings
from omslib.settings import load_settings
from rich.console import Console

from oms_cli import local_stack

T = TypeVar("T")
err_console = Console(stderr=True)


def service_addr(service: str, override: str | None) -> str:
    """The address to call: the option, OMS_<SERVICE>_ADDR or _PORT, `make run`, the default."""
    return local_stack.service_addr(service, override)


def operator_channel(addr: str) -> grpc.aio.Channel:
    """A channel to ``addr`` as the operator (docs/security.md), unless
    OMS_SERVICE_IDENTITY says otherwise."""
    security = load_settings(SecuritySettings).grpc_security("operator")
    return service_channel(addr, security)


def call(service: str, addr: str, make_call: Callable[[grpc.aio.Channel], Awaitable[T]]) -> T:
    """Run one RPC and turn gRPC failures into a clear message and exit code 1."""

    async def run() -> T:
        async with operator_channel(addr) as channel:
            return await make_call(channel)

    try:
        return asyncio.run(run())
    except grpc.aio.AioRpcError as err:
        failure = remote_error(err)
        if failure.code == grpc.StatusCode.UNAVAILABLE:
            err_console.print(
                f"[red]cannot reach {service} at {addr}[/red]: {failure.message}\n"
                "Is the stack running? Start it with `make run`, or point "
                f"OMS_{service.upper()}_ADDR (or OMS_{service.upper()}_PORT) at it."
            )
        else:
            reason = f" ({failure.reason})" if failure.reason else ""
            err_console.print(
                f"[red]{service} answered {failure.code.name}{reason}[/red]: {failure.message}"
            )
        raise typer.Exit(1) from None
