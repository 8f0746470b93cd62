"""`oms order ...`: look at orders."""

from __future__ import annotations

from typing import Annotated

import typer
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.type.v1 import platform_pb2

from oms_cli import render
from oms_cli.rpc import call, service_addr

app = typer.Typer(help="Look at orders.", no_args_is_help=True)

AddrOption = Annotated[
    str | None, typer.Option("--orders", help="orders address (default: $OMS_ORDERS_ADDR)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print the raw resource as JSON")]


def order_name(ref: str) -> str:
    """Accept an order id, "orders/<id>" or "platforms/<platform>/orders/<platform order id>"."""
    if ref.startswith(("orders/", "platforms/")):
        return ref
    return f"orders/{ref}"


@app.command("get")
def get_order(
    ref: Annotated[str, typer.Argument(help="order id, orders/<id> or platforms/<p>/orders/<id>")],
    orders: AddrOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one order: state, lines, reserved stock and history."""
    addr = service_addr("orders", orders)
    reply = call(
        "orders",
        addr,
        lambda channel: orders_service_pb2_grpc.OrdersServiceStub(channel).GetOrder(
            orders_service_pb2.GetOrderRequest(name=order_name(ref)), timeout=10
        ),
    )
    if as_json:
        render.print_json(reply.order)
    else:
        render.print_order(reply.order)


@app.command("list")
def list_orders(
    state: Annotated[
        list[str] | None, typer.Option(help="only these states, e.g. PENDING_PAYMENT")
    ] = None,
    platform: Annotated[str | None, typer.Option(help="only this platform, e.g. shop")] = None,
    page_size: Annotated[int, typer.Option(min=1, max=500)] = 50,
    orders: AddrOption = None,
) -> None:
    """List the newest orders."""
    states = [
        render.enum_value(order_pb2.OrderState, "ORDER_STATE_", s, "--state") for s in state or []
    ]
    platform_value = (
        render.enum_value(platform_pb2.Platform, "PLATFORM_", platform, "--platform")
        if platform
        else platform_pb2.PLATFORM_UNSPECIFIED
    )
    request = orders_service_pb2.ListOrdersRequest(
        page_size=page_size, states=states, platform=platform_value
    )
    reply = call(
        "orders",
        service_addr("orders", orders),
        lambda channel: orders_service_pb2_grpc.OrdersServiceStub(channel).ListOrders(
            request, timeout=10
        ),
    )
    render.print_order_rows(list(reply.orders))


def _order_call(orders: str | None, method: str, request: object) -> order_pb2.Order:
    reply = call(
        "orders",
        service_addr("orders", orders),
        lambda channel: getattr(orders_service_pb2_grpc.OrdersServiceStub(channel), method)(
            request, timeout=30
        ),
    )
    return reply.order  # type: ignore[no-any-return]


@app.command("pay")
def pay_order(
    ref: Annotated[str, typer.Argument(help="order id, orders/<id> or platforms/<p>/orders/<id>")],
    reference: Annotated[
        str,
        typer.Option(help="the payment provider's reference (default: manual:<order id>)"),
    ] = "",
    orders: AddrOption = None,
) -> None:
    """Record the payment of the order's total: the stock is deducted, then the rules run.

    Paying again with the same reference is a no-op; another reference is refused.
    """
    order = _order_call(
        orders, "GetOrder", orders_service_pb2.GetOrderRequest(name=order_name(ref))
    )
    request = orders_service_pb2.RecordPaymentRequest(
        name=order.name,
        amount=order.total,
        payment_reference=reference or f"manual:{order.order_id}",
    )
    render.print_order(_order_call(orders, "RecordPayment", request))


@app.command("cancel")
def cancel_order(
    ref: Annotated[str, typer.Argument(help="order id, orders/<id> or platforms/<p>/orders/<id>")],
    reason: Annotated[str, typer.Option(help="why")] = "cancelled by operator",
    orders: AddrOption = None,
) -> None:
    """Cancel an order; unpaid stock is released."""
    request = orders_service_pb2.CancelOrderRequest(name=order_name(ref), reason=reason)
    render.print_order(_order_call(orders, "CancelOrder", request))


@app.command("approve")
def approve_order(
    ref: Annotated[str, typer.Argument(help="order id, orders/<id> or platforms/<p>/orders/<id>")],
    note: Annotated[str, typer.Option(help="review note")] = "",
    operator: Annotated[str, typer.Option(help="who approves")] = "operator",
    orders: AddrOption = None,
) -> None:
    """Approve an order waiting in review (IN_REVIEW -> ALLOCATED)."""
    request = orders_service_pb2.ApproveOrderRequest(
        name=order_name(ref), note=note, operator=operator
    )
    render.print_order(_order_call(orders, "ApproveOrder", request))


@app.command("reject")
def reject_order(
    ref: Annotated[str, typer.Argument(help="order id, orders/<id> or platforms/<p>/orders/<id>")],
    reason: Annotated[str, typer.Option(help="why")] = "rejected in review",
    operator: Annotated[str, typer.Option(help="who rejects")] = "operator",
    orders: AddrOption = None,
) -> None:
    """Reject an order waiting in review (IN_REVIEW -> REJECTED)."""
    request = orders_service_pb2.RejectOrderRequest(
        name=order_name(ref), reason=reason, operator=operator
    )
    render.print_order(_order_call(orders, "RejectOrder", request))
