"""`oms dev up`: the whole stack on one machine, for `make run`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from oms.inventory.v1 import inventory_service_pb2_grpc
from oms_inventory.demo_catalogue import seed_demo_catalogue
from omslib.grpc_client import service_channel
from omslib.security import GrpcSecurity
from rich.console import Console

from oms_cli.logview import LogFollower
from oms_cli.stack import DEV_SHOP_SECRET, START_ORDER, Stack, StackConfig

app = typer.Typer(help="Run the stack locally.", no_args_is_help=True)
console = Console()


async def _seed(addr: str) -> None:
    # The local stack is bare, or signs calls when OMS_SERVICE_TOKEN_SECRET is set (stack.py).
    secret = os.environ.get("OMS_SERVICE_TOKEN_SECRET")
    security = GrpcSecurity("operator", token_secret=secret.encode() if secret else None)
    async with service_channel(addr, security) as channel:
        await seed_demo_catalogue(inventory_service_pb2_grpc.InventoryServiceStub(channel))


@app.command("up")
def up(
    var_dir: Annotated[Path, typer.Option("--var", help="folder for databases and logs")] = Path(
        "var"
    ),
    seed: Annotated[bool, typer.Option(help="load the demo catalogue")] = True,
) -> None:
    """Start every service (SQLite files and an embedded Redis by default) until Ctrl-C."""
    config = StackConfig.from_environment(var_dir, os.environ)
    stack = Stack(config, die_with_supervisor=True)
    follower = LogFollower({name: stack.log_path(name) for name in START_ORDER}, console)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    console.print(f"[bold]starting the order hub[/bold] (databases and logs in {var_dir}/)")
    follower.start()
    try:
        stack.start()
        if seed:
            asyncio.run(_seed(stack.addr("inventory")))
        _print_banner(stack)
        while not stopping.wait(0.5):
            stack.check_alive()
    except KeyboardInterrupt:
        pass
    except Exception as err:  # a start-up failure or a crashed service ends the whole stack
        console.print(f"[red]stack stopped: {err}[/red]")
        raise typer.Exit(1) from None
    finally:
        # Stop the services before anything that writes to the terminal: if the
        # terminal (or a pipe like `| tee`) is gone, printing raises, and the
        # services must not be left running.
        stack.stop()
        follower.stop()
        with contextlib.suppress(OSError):
            console.print("[bold]stopped[/bold]")


def _print_banner(stack: Stack) -> None:
    secret_note = (
        "  [yellow]using the built-in development shop secret; set OMS_PLATFORM_SHOP_SECRET "
        "for anything real[/yellow]\n"
        if os.environ.get("OMS_PLATFORM_SHOP_SECRET", DEV_SHOP_SECRET) == DEV_SHOP_SECRET
        else ""
    )
    tracing = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    security = (
        "token: services sign their calls with OMS_SERVICE_TOKEN_SECRET"
        if os.environ.get("OMS_SERVICE_TOKEN_SECRET")
        else "bare: plaintext gRPC on 127.0.0.1, no authorization (docs/security.md)"
    )
    console.print(
        "\n[bold green]the order hub is up[/bold green]\n"
        f"  gateway     {stack.gateway_url}   (POST /webhooks/shop, docs: /openapi.json)\n"
        f"  orders      {stack.addr('orders')}   (gRPC, reflection on)\n"
        f"  inventory   {stack.addr('inventory')}   (gRPC, reflection on)\n"
        f"  aftersales  {stack.addr('aftersales')}   (gRPC, reflection on)\n"
        f"  redis       {stack.redis_url}\n"
        f"  security    {security}\n"
        f"  tracing     {tracing or 'off (set OTEL_EXPORTER_OTLP_ENDPOINT, e.g. Jaeger at http://127.0.0.1:4317)'}\n"
        f"{secret_note}"
        "\nsend a sample order from another terminal:\n"
        "  [bold].venv/bin/oms send shop --sku TEE-WHITE-M:2 --order-id A1001[/bold]\n"
        "  [bold].venv/bin/oms order get platforms/shop/orders/A1001[/bold]\n"
        "  [bold].venv/bin/oms stock get TEE-WHITE-M[/bold]\n"
        f"  [bold].venv/bin/oms events tail --redis {stack.redis_url}[/bold]   (what happened)\n"
        "Ctrl-C stops everything.\n"
    )
