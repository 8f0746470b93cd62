"""`oms dev up`: the whole stack on one machine, for `make run`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from oms_cli.dev_credentials import DEV_SHOP_SECRET, ensure_admin_token
from oms_cli.local_stack import DEFAULT_PORTS, LocalStack, remove_state, state_file
from oms_cli.logview import LogFollower

if TYPE_CHECKING:
    from oms_cli.stack import Stack

app = typer.Typer(help="Run the stack locally.", no_args_is_help=True)
console = Console()

#: Every way a terminal session ends the runner: Ctrl-C, `kill`, closing the terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequested(Exception):
    """A stop signal arrived; the runner stops every child before it exits."""


def _request_stop(signum: int, _frame: FrameType | None) -> None:
    # Further signals must not interrupt the orderly stop that follows.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise StopRequested(signal.Signals(signum).name)


async def _seed(addr: str) -> None:
    from oms.inventory.v1 import inventory_service_pb2_grpc
    from omslib.grpc_client import service_channel
    from omslib.security import GrpcSecurity

    from oms_cli.demo_catalogue import seed_demo_catalogue

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
    # Imported here, not at the top: every other `oms` command would pay for them.
    from oms_cli.stack import START_ORDER, Stack, StackConfig

    config = StackConfig.from_environment(var_dir, os.environ)
    token_file = None
    if not os.environ.get("OMS_GATEWAY_ADMIN_TOKEN"):
        token_file = ensure_admin_token(var_dir)
        config.extra_env["OMS_GATEWAY_ADMIN_TOKEN"] = token_file.read_text().strip()
    stack = Stack(config, die_with_supervisor=True)
    follower = LogFollower({name: stack.log_path(name) for name in START_ORDER}, console)
    for sig in STOP_SIGNALS:
        signal.signal(sig, _request_stop)
    state = state_file() if var_dir == Path("var") else var_dir / "stack.json"
    console.print(f"[bold]starting the order hub[/bold] (databases and logs in {var_dir}/)")
    follower.start()
    try:
        stack.start()
        if seed:
            asyncio.run(_seed(stack.addr("inventory")))
        _publish(stack, state, token_file)
        _print_banner(stack, token_file)
        while True:
            stack.check_alive()
            time.sleep(0.5)
    except (KeyboardInterrupt, StopRequested):
        failure = None
    except Exception as err:  # a start-up failure or a crashed service ends the whole stack
        failure = err
    # Stop the services before anything that writes to the terminal: if the terminal
    # (or a pipe like `| tee`) is gone, printing raises, and nothing may be left running.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    remove_state(state, os.getpid())
    stack.stop()
    follower.stop()
    with contextlib.suppress(OSError):
        if failure is None:
            console.print("[bold]stopped[/bold]")
        else:
            console.print(f"[red]stack stopped: {failure}[/red]")
    if failure is not None:
        raise typer.Exit(1)


def _publish(stack: Stack, state: Path, token_file: Path | None) -> None:
    """Write where everything listens, for the other `oms` commands (see local_stack)."""
    LocalStack(
        pid=os.getpid(),
        gateway_url=stack.gateway_url,
        addrs={name: stack.addr(name) for name in DEFAULT_PORTS if name != "gateway"},
        redis_url=stack.redis_url,
        admin_token_file=str(token_file.resolve()) if token_file else None,
    ).write(state)


def _port_env(stack: Stack) -> str:
    """The variables a command in another terminal needs when the ports are not the defaults.

    Without them the commands still find this stack through var/stack.json when run
    from the same folder; the prefix makes the printed commands work from anywhere.
    """
    moved = [
        f"OMS_{name.upper()}_PORT={stack.config.ports[name]}"
        for name in ("gateway", "orders", "inventory")
        if stack.config.ports[name] != DEFAULT_PORTS[name]
    ]
    return " ".join(moved) + " " if moved else ""


def _print_banner(stack: Stack, token_file: Path | None) -> None:
    secret_note = (
        "  [yellow]using the built-in development platform secrets (docs/platforms.md); "
        "set OMS_PLATFORM_SHOP_SECRET and the others for anything real[/yellow]\n"
        if os.environ.get("OMS_PLATFORM_SHOP_SECRET", DEV_SHOP_SECRET) == DEV_SHOP_SECRET
        else ""
    )
    admin = (
        f"development token in {token_file} (`oms inbox` reads it)"
        if token_file
        else "token from OMS_GATEWAY_ADMIN_TOKEN"
    )
    tracing = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    security = (
        "token: services sign their calls with OMS_SERVICE_TOKEN_SECRET"
        if os.environ.get("OMS_SERVICE_TOKEN_SECRET")
        else "bare: plaintext gRPC on 127.0.0.1, no authorization (docs/security.md)"
    )
    oms = f"{_port_env(stack)}.venv/bin/oms"
    console.print(
        "\n[bold green]the order hub is up[/bold green]\n"
        f"  gateway     {stack.gateway_url}   (POST /webhooks/<platform>, docs: /docs)\n"
        f"  admin API   {stack.gateway_url}/admin   ({admin})\n"
        f"  orders      {stack.addr('orders')}   (gRPC, reflection on)\n"
        f"  inventory   {stack.addr('inventory')}   (gRPC, reflection on)\n"
        f"  aftersales  {stack.addr('aftersales')}   (gRPC, reflection on)\n"
        f"  redis       {stack.redis_url}\n"
        f"  security    {security}\n"
        f"  tracing     {tracing or 'off (set OTEL_EXPORTER_OTLP_ENDPOINT, e.g. Jaeger at http://127.0.0.1:4317)'}\n"
        f"{secret_note}"
        "\nsend a sample order from another terminal (in this folder):\n"
        f"  [bold]{oms} send shop --sku TEE-WHITE-M:2 --order-id A1001[/bold]\n"
        f"  [bold]{oms} order get platforms/shop/orders/A1001[/bold]\n"
        f"  [bold]{oms} stock get TEE-WHITE-M[/bold]\n"
        f"  [bold]{oms} events tail[/bold]   (what happened)\n"
        "Ctrl-C stops everything.\n",
        soft_wrap=True,
    )
