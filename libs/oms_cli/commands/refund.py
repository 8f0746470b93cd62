"""`oms refund request|show|approve|reject|cancel|receive|list`: refunds and returns."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.type.v1 import money_pb2
from omslib.ids import new_id
from rich.table import Table

from oms_cli import render
from oms_cli.commands.ticket_ops import AddrOption, JsonOption, OperatorOption, _stub_call
from oms_cli.commands.tx import print_transaction

app = typer.Typer(help="Refunds and returns (aftersales coordinates the refund TCC).")


def refund_name(ref: str) -> str:
    return ref if ref.startswith("refunds/") else f"refunds/{ref}"


def _money(text: str, currency: str) -> money_pb2.Money:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"not an amount: {text!r} (e.g. 19.99)") from None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise typer.BadParameter(f"amount must be >= 0 with at most 2 decimals, got {text!r}")
    return money_pb2.Money(minor_units=int(value * 100), currency_code=currency.upper())


def _pairs(items: list[str] | None, what: str) -> list[tuple[str, int]]:
    pairs = []
    for item in items or []:
        sku, sep, qty = item.rpartition(":")
        if not sep or not sku or not qty.isdigit() or int(qty) <= 0:
            raise typer.BadParameter(f"{what} must be SKU:QUANTITY, got {item!r}")
        pairs.append((sku, int(qty)))
    return pairs


def _state(value: int) -> str:
    return render.enum_name(apb.RefundState, value, "REFUND_STATE_")


def print_refund(r: apb.Refund) -> None:
    console = render.console
    console.print(
        f"[bold]{r.name}[/bold]  {_state(r.state)}  {render.money(r.amount)}"
        f" (shipping {render.money(r.shipping_amount)})  order {r.order}  ticket {r.ticket or '-'}"
    )
    console.print(
        f"payout {r.payout_path} {r.payout_reference or '-'}  approved by {r.approved_by or '-'}"
        f"  gid {r.gid}  refunded {render.timestamp(r.refund_time)}"
    )
    for line in r.return_lines:
        console.print(f"  return {line.sku} x{line.quantity}")
    if r.state_reason:
        console.print(f"reason: {r.state_reason}")
    for diff in r.differences:
        console.print(f"  [yellow]difference[/yellow] {diff}")
    if r.state == apb.REFUND_STATE_REFUNDED and r.ticket:
        console.print(f"the ticket can be resolved: oms ticket resolve {r.ticket}")


def _print_reply(reply: object) -> None:
    print_refund(reply.refund)  # type: ignore[attr-defined]


@app.command("request")
def request_refund(
    order: Annotated[str, typer.Argument(help="order id or orders/<id>")],
    amount: Annotated[
        str, typer.Option(help="goods amount, e.g. 19.99; omit to price --return lines by line")
    ] = "",
    shipping: Annotated[str, typer.Option(help="shipping refunded on top")] = "0",
    currency: Annotated[str, typer.Option(help="ISO 4217 code")] = "CNY",
    ret: Annotated[
        list[str] | None, typer.Option("--return", help="goods back, SKU:QTY (repeatable)")
    ] = None,
    ticket: Annotated[str, typer.Option(help="the ticket asking, id or tickets/<id>")] = "",
    reason: Annotated[str, typer.Option(help="why the customer asks")] = "",
    request_id: Annotated[str, typer.Option(help="idempotency key (default: new)")] = "",
    operator: OperatorOption = "operator",
    aftersales: AddrOption = None,
) -> None:
    """Request a refund (with --return: a return and refund)."""
    request = pb.RequestRefundRequest(
        order=order if order.startswith("orders/") else f"orders/{order}",
        amount=_money(amount, currency) if amount else None,
        shipping_amount=_money(shipping, currency),
        return_lines=[apb.ReturnLine(sku=s, quantity=q) for s, q in _pairs(ret, "--return")],
        ticket=(ticket if ticket.startswith("tickets/") else f"tickets/{ticket}") if ticket else "",
        reason=reason,
        request_id=request_id or f"cli:{new_id()}",
        actor=operator,
    )
    _print_reply(_stub_call(aftersales, "RequestRefund", request))


@app.command("show")
def show_refund(
    refund: Annotated[str, typer.Argument(help="refund id or refunds/<id>")],
    aftersales: AddrOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a refund with its audit trail."""
    reply = _stub_call(aftersales, "GetRefund", pb.GetRefundRequest(name=refund_name(refund)))
    assert isinstance(reply, pb.GetRefundResponse)
    if as_json:
        render.print_json(reply)
        return
    print_refund(reply.refund)
    for a in reply.audit:
        render.console.print(
            f"  {render.timestamp(a.time)}  {_state(a.from_state)} -> {_state(a.to_state)}"
            f"  {a.actor}  {a.note}"
        )


@app.command("approve")
def approve_refund(
    refund: Annotated[str, typer.Argument(help="refund id or refunds/<id>")],
    note: Annotated[str, typer.Option(help="why")] = "",
    operator: OperatorOption = "operator",
    aftersales: AddrOption = None,
) -> None:
    """Approve a waiting refund: the money goes out."""
    request = pb.ApproveRefundRequest(name=refund_name(refund), operator=operator, note=note)
    _print_reply(_stub_call(aftersales, "ApproveRefund", request))


@app.command("reject")
def reject_refund(
    refund: Annotated[str, typer.Argument(help="refund id or refunds/<id>")],
    reason: Annotated[str, typer.Option(help="why (required)")],
    operator: OperatorOption = "operator",
    aftersales: AddrOption = None,
) -> None:
    """Reject a refund; the frozen amount is released."""
    request = pb.RejectRefundRequest(name=refund_name(refund), operator=operator, reason=reason)
    _print_reply(_stub_call(aftersales, "RejectRefund", request))


@app.command("cancel")
def cancel_refund(
    refund: Annotated[str, typer.Argument(help="refund id or refunds/<id>")],
    reason: Annotated[str, typer.Option(help="why")] = "",
    operator: OperatorOption = "operator",
    aftersales: AddrOption = None,
) -> None:
    """Withdraw a refund before the money goes out."""
    request = pb.CancelRefundRequest(name=refund_name(refund), operator=operator, reason=reason)
    _print_reply(_stub_call(aftersales, "CancelRefund", request))


@app.command("receive")
def receive_return(
    refund: Annotated[str, typer.Argument(help="refund id or refunds/<id>")],
    warehouse: Annotated[str, typer.Option(help="the receiving warehouse code")],
    fit: Annotated[
        list[str] | None, typer.Option("--fit", help="resellable units, SKU:QTY (repeatable)")
    ] = None,
    damaged: Annotated[
        list[str] | None, typer.Option("--damaged", help="damaged units, SKU:QTY (repeatable)")
    ] = None,
    request_id: Annotated[str, typer.Option(help="idempotency key (default: new)")] = "",
    operator: OperatorOption = "operator",
    aftersales: AddrOption = None,
) -> None:
    """Record a returned parcel as scanned: a match pays, a difference holds for an agent."""
    lines = [pb.ReceivedUnits(sku=s, quantity=q) for s, q in _pairs(fit, "--fit")]
    lines += [
        pb.ReceivedUnits(sku=s, quantity=q, damaged=True) for s, q in _pairs(damaged, "--damaged")
    ]
    if not lines:
        raise typer.BadParameter("give at least one --fit or --damaged line")
    request = pb.ReceiveReturnRequest(
        name=refund_name(refund),
        warehouse_code=warehouse,
        lines=lines,
        request_id=request_id or f"cli:{new_id()}",
        actor=operator,
    )
    _print_reply(_stub_call(aftersales, "ReceiveReturn", request))


@app.command("list")
def list_refunds(
    order: Annotated[str, typer.Option(help="only this order's refunds")] = "",
    ticket: Annotated[str, typer.Option(help="only this ticket's refunds")] = "",
    state: Annotated[str, typer.Option(help="only this state, e.g. REQUESTED")] = "",
    page_size: Annotated[int, typer.Option(min=1, max=500)] = 50,
    page_token: Annotated[str, typer.Option(help="the token printed under the previous page")] = "",
    aftersales: AddrOption = None,
) -> None:
    """List refunds, newest first."""
    try:
        value = apb.RefundState.Value(f"REFUND_STATE_{state.upper()}") if state else 0
    except ValueError:
        raise typer.BadParameter(f"unknown state {state!r}") from None
    request = pb.ListRefundsRequest(
        order=order if not order or order.startswith("orders/") else f"orders/{order}",
        ticket=ticket if not ticket or ticket.startswith("tickets/") else f"tickets/{ticket}",
        state=value,  # type: ignore[arg-type]
        page_size=page_size,
        page_token=page_token,
    )
    reply = _stub_call(aftersales, "ListRefunds", request)
    assert isinstance(reply, pb.ListRefundsResponse)
    table = Table("refund", "state", "amount", "order", "ticket", "payout")
    for r in reply.refunds:
        table.add_row(
            r.refund_id,
            _state(r.state),
            render.money(r.amount),
            r.order,
            r.ticket or "-",
            r.payout_reference or r.payout_path,
        )
    render.console.print(table)
    if reply.next_page_token:
        render.console.print(f"next page: --page-token {reply.next_page_token}")


@app.command("tx")
def show_transaction(
    refund: Annotated[str, typer.Argument(help="refund id or refunds/<id>")],
    aftersales: AddrOption = None,
) -> None:
    """Show the refund's TCC transaction with its branches."""
    request = pb.GetRefundTransactionRequest(name=refund_name(refund))
    reply = _stub_call(aftersales, "GetRefundTransaction", request)
    print_transaction(reply.transaction)  # type: ignore[attr-defined]


@app.command("retry")
def retry_transaction(
    refund: Annotated[str, typer.Argument(help="refund id or refunds/<id>")],
    operator: OperatorOption = "operator",
    aftersales: AddrOption = None,
) -> None:
    """Run a refund's PARKED transaction again (after fixing what parked it)."""
    request = pb.RetryRefundTransactionRequest(name=refund_name(refund), operator=operator)
    reply = _stub_call(aftersales, "RetryRefundTransaction", request)
    print_transaction(reply.transaction)  # type: ignore[attr-defined]
