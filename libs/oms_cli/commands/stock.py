"""`oms stock ...`: look at stock."""

from __future__ import annotations

from typing import Annotated

import grpc
import typer
from oms.inventory.v1 import inventory_pb2, inventory_service_pb2, inventory_service_pb2_grpc

from oms_cli import render
from oms_cli.rpc import call, service_addr

app = typer.Typer(help="Look at stock.", no_args_is_help=True)

InventoryOption = Annotated[
    str | None,
    typer.Option("--inventory", help="inventory address (default: $OMS_INVENTORY_ADDR)"),
]
#: Bounds of `stock list`: pages of the audit log read, SKUs asked per availability call.
MAX_AUDIT_PAGES = 50
AUDIT_PAGE_SIZE = 1000
AVAILABILITY_BATCH = 500


@app.command("get")
def get_stock(
    sku: Annotated[str, typer.Argument(help="the SKU, e.g. TEE-WHITE-M")],
    inventory: InventoryOption = None,
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


@app.command("list")
def list_stock(inventory: InventoryOption = None) -> None:
    """The catalogue: every SKU that has stock in a warehouse, with its totals.

    Read from the stock audit log (every SKU gets an entry when its stock is first
    set), at most the newest 50,000 entries.
    """
    availabilities = call("inventory", service_addr("inventory", inventory), _catalogue)
    render.print_catalogue(availabilities)


async def _catalogue(channel: grpc.aio.Channel) -> list[inventory_pb2.Availability]:
    stub = inventory_service_pb2_grpc.InventoryServiceStub(channel)
    skus: dict[str, None] = {}
    token = ""
    for _ in range(MAX_AUDIT_PAGES):
        page = await stub.ListStockAudit(
            inventory_service_pb2.ListStockAuditRequest(
                page_size=AUDIT_PAGE_SIZE, page_token=token
            ),
            timeout=10,
        )
        skus.update(dict.fromkeys(entry.sku for entry in page.entries))
        token = page.next_page_token
        if not token:
            break
    ordered = sorted(skus)
    found: list[inventory_pb2.Availability] = []
    for start in range(0, len(ordered), AVAILABILITY_BATCH):
        reply = await stub.GetAvailability(
            inventory_service_pb2.GetAvailabilityRequest(
                skus=ordered[start : start + AVAILABILITY_BATCH]
            ),
            timeout=10,
        )
        found.extend(reply.availabilities)
    return found
