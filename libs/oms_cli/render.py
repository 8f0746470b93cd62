"""Render protobuf resources for people (tables) or tools (--json)."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import typer
from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from oms.inventory.v1 import inventory_pb2
from oms.orders.v1 import order_pb2
from oms.type.v1 import money_pb2, platform_pb2
from rich.console import Console
from rich.table import Table

console = Console()


def print_json(message: Message) -> None:
    console.print_json(json.dumps(json_format.MessageToDict(message)))


def money(value: money_pb2.Money) -> str:
    sign = "-" if value.minor_units < 0 else ""
    units, cents = divmod(abs(value.minor_units), 100)
    return f"{sign}{units}.{cents:02d} {value.currency_code}"


def timestamp(value: Timestamp) -> str:
    if not value.seconds and not value.nanos:
        return "-"
    return value.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def enum_name(enum_type: object, value: int, prefix: str) -> str:
    return str(enum_type.Name(value)).removeprefix(prefix)  # type: ignore[attr-defined]


def enum_value(enum_type: object, prefix: str, given: str, option: str) -> Any:
    """The enum value named ``given`` (without ``prefix``), or a usage error listing them all."""
    names = [
        value.name.removeprefix(prefix)
        for value in enum_type.DESCRIPTOR.values  # type: ignore[attr-defined]
        if not value.name.endswith("_UNSPECIFIED")
    ]
    wanted = given.strip().upper()
    if wanted not in names:
        raise typer.BadParameter(f"{given!r} is not one of {', '.join(names)}", param_hint=option)
    return enum_type.Value(prefix + wanted)  # type: ignore[attr-defined]


def order_state(value: int) -> str:
    return enum_name(order_pb2.OrderState, value, "ORDER_STATE_")


def print_order(order: order_pb2.Order) -> None:
    summary = Table.grid(padding=(0, 2))
    summary.add_row("order", f"[bold]{order.name}[/bold]")
    summary.add_row("platform", f"{order.platform_order_id} on {_platform(order.platform)}")
    summary.add_row("state", f"[bold]{order_state(order.state)}[/bold] {order.state_reason}")
    if order.reason_codes:
        summary.add_row("reasons", ", ".join(order.reason_codes))
    summary.add_row("total", money(order.total))
    summary.add_row("buyer", f"{order.buyer.name} ({order.buyer.id})")
    address = order.shipping_address
    summary.add_row("ship to", f"{address.province} {address.city} {address.line1}".strip())
    summary.add_row("pay by", timestamp(order.payment_deadline))
    summary.add_row("tcc gid", order.gid or "-")
    console.print(summary)

    lines = Table(title="lines", title_justify="left")
    for column in ("sku", "qty", "unit price", "title"):
        lines.add_column(column)
    for line in order.lines:
        lines.add_row(line.sku, str(line.quantity), money(line.unit_price), line.title)
    console.print(lines)

    if order.allocations:
        allocations = Table(title=allocation_title(order.state), title_justify="left")
        for column in ("sku", "warehouse", "qty"):
            allocations.add_column(column)
        for allocation in order.allocations:
            allocations.add_row(allocation.sku, allocation.warehouse_code, str(allocation.quantity))
        console.print(allocations)

    history = Table(title="history", title_justify="left")
    for column in ("time", "from", "to", "reason", "actor"):
        history.add_column(column)
    for move in order.history:
        history.add_row(
            timestamp(move.time),
            order_state(move.from_state) if move.from_state else "-",
            order_state(move.to_state),
            move.reason,
            move.actor,
        )
    console.print(history)


def allocation_title(state: int) -> str:
    """What the order's warehouse lines mean in its state (they outlive the reservation)."""
    if state == order_pb2.ORDER_STATE_PENDING_PAYMENT:
        return "stock reserved (until paid or the deadline)"
    if state in (order_pb2.ORDER_STATE_CANCELLED, order_pb2.ORDER_STATE_REJECTED):
        return "stock released (was held in)"
    if state in (order_pb2.ORDER_STATE_PAID, order_pb2.ORDER_STATE_IN_REVIEW):
        return "stock deducted"
    return "stock allocated (deducted)"


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 entry`` / ``2 entries``."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _platform(value: int) -> str:
    return enum_name(platform_pb2.Platform, value, "PLATFORM_").lower()


def print_order_rows(orders: list[order_pb2.Order]) -> None:
    table = Table()
    for column in ("order", "platform", "platform order", "state", "total", "created"):
        table.add_column(column)
    for order in orders:
        table.add_row(
            order.order_id,
            _platform(order.platform),
            order.platform_order_id,
            order_state(order.state),
            money(order.total),
            timestamp(order.create_time),
        )
    console.print(table)


def print_availability(availability: inventory_pb2.Availability) -> None:
    table = Table(title=f"stock of {availability.sku}", title_justify="left")
    for column in ("warehouse", "on hand", "reserved", "available"):
        table.add_column(column, justify="right" if column != "warehouse" else "left")
    for level in availability.warehouses:
        table.add_row(
            level.warehouse_code, str(level.on_hand), str(level.reserved), str(level.available)
        )
    table.add_row(
        "[bold]total[/bold]",
        f"[bold]{availability.on_hand}[/bold]",
        f"[bold]{availability.reserved}[/bold]",
        f"[bold]{availability.available}[/bold]",
    )
    console.print(table)


def print_catalogue(availabilities: list[inventory_pb2.Availability]) -> None:
    table = Table(title="catalogue", title_justify="left")
    for column in ("sku", "warehouses", "on hand", "reserved", "available"):
        table.add_column(column, justify="left" if column in ("sku", "warehouses") else "right")
    for availability in availabilities:
        table.add_row(
            availability.sku,
            " ".join(level.warehouse_code for level in availability.warehouses),
            str(availability.on_hand),
            str(availability.reserved),
            str(availability.available),
        )
    console.print(table)
    if not availabilities:
        console.print("no SKU has stock yet (`make run` loads a demo catalogue)")
