"""`oms stock ...`: look at stock."""

from __future__ import annotations

from typing import Annotated

import typer
from oms.inventory.v1 import inventory_service_pb2, inventory_service_pb2_grpc

from oms_cli import render
from oms_cli.rpc import call, service_addr

app = typer.Typer(help="Look at stock.", no_args_is_help=True)


@app.command("get")
def get_stock(
    sku: Annotated[str, typer.Argument(help="the SKU, e.g. TEE-WHITE-M")],
    inventory: Annotated[
        str | None,
        typer.Option("--inventory", help="inventory address (default: $OMS_INVENTORY_ADDR)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show on hand, reserved and available stock of one SKU, per warehouse."""
    reply = call(
        "inventory",
        service_addr("inventory", inventory),
        lambda channel: inventory_service_pb2_grpc.InventoryServiceStub(channel).GetAvailability(
            inventory_service_pb2.GetAvailabilityRequest(skus=[sku]), timeout=10
        ),
    )
    availability = reply.availabilities[0]
    if as_json:
        render.print_json(availability)
    else:
        render.print_availability(availability)
