"""`oms tx ...`: the TCC coordinator's transactions (list by state, show, retry parked)."""

from __future__ import annotations

from typing import Annotated

import typer
from oms.orders.v1 import orders_service_pb2, orders_service_pb2_grpc
from oms.tcc.v1 import tcc_pb2
from rich.console import Console
from rich.table import Table

from oms_cli import render
from oms_cli.rpc import call, service_addr

app = typer.Typer(help="TCC transactions of the orders coordinator.", no_args_is_help=True)
console = Console()

AddrOption = Annotated[
    str | None, typer.Option("--orders", help="orders address (default: $OMS_ORDERS_ADDR)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print the raw resource as JSON")]


def _stub(channel):  # type: ignore[no-untyped-def]
    return orders_service_pb2_grpc.OrdersServiceStub(channel)


def tx_state(value: int) -> str:
    return render.enum_name(tcc_pb2.TransactionState, value, "TRANSACTION_STATE_")


def branch_state(value: int) -> str:
    return render.enum_name(tcc_pb2.BranchState, value, "BRANCH_STATE_")


def print_transaction(tx: tcc_pb2.GlobalTransaction) -> None:
    console.print(f"[bold]{tx.gid}[/bold]  {tx_state(tx.state)}  {tx.kind}  {tx.subject}")
    if tx.reason:
        console.print(f"reason: {tx.reason}")
    table = Table("branch", "participant", "state", "attempts", "last error")
    for b in tx.branches:
        table.add_row(
            b.branch_id, b.participant, branch_state(b.state), str(b.attempts), b.last_error
        )
    console.print(table)


@app.command("list")
def list_transactions(
    state: Annotated[
        list[str] | None, typer.Option(help="only these states, e.g. PARKED (repeatable)")
    ] = None,
    page_size: Annotated[int, typer.Option(min=1, max=500)] = 50,
    orders: AddrOption = None,
) -> None:
    """List the newest transactions, e.g. `oms tx list --state PARKED`."""
    states = [
        render.enum_value(tcc_pb2.TransactionState, "TRANSACTION_STATE_", s, "--state")
        for s in state or []
    ]
    request = orders_service_pb2.ListTransactionsRequest(states=states, page_size=page_size)
    reply = call(
        "orders",
        service_addr("orders", orders),
        lambda channel: _stub(channel).ListTransactions(request, timeout=10),
    )
    table = Table("gid", "state", "kind", "subject", "reason")
    for tx in reply.transactions:
        table.add_row(tx.gid, tx_state(tx.state), tx.kind, tx.subject, tx.reason[:80])
    console.print(table)


@app.command("show")
def show_transaction(
    gid: Annotated[str, typer.Argument(help="the transaction's gid")],
    orders: AddrOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one transaction with its branches."""
    reply = call(
        "orders",
        service_addr("orders", orders),
        lambda channel: _stub(channel).GetTransaction(
            orders_service_pb2.GetTransactionRequest(gid=gid), timeout=10
        ),
    )
    if as_json:
        render.print_json(reply.transaction)
    else:
        print_transaction(reply.transaction)


@app.command("retry")
def retry_transaction(
    gid: Annotated[str, typer.Argument(help="the PARKED transaction's gid")],
    operator: Annotated[str, typer.Option(help="who asks for the retry")] = "operator",
    orders: AddrOption = None,
) -> None:
    """Put a PARKED transaction back into its Confirm/Cancel phase and run it now."""
    reply = call(
        "orders",
        service_addr("orders", orders),
        lambda channel: _stub(channel).RetryTransaction(
            orders_service_pb2.RetryTransactionRequest(gid=gid, operator=operator), timeout=30
        ),
    )
    print_transaction(reply.transaction)
