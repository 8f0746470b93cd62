"""The `oms` operator command line."""

from __future__ import annotations

import typer

from oms_cli.commands import (
    dev,
    orders,
    profile,
    refund,
    send,
    stock,
    ticket,
    ticket_classify,
    ticket_import,
    ticket_ops,
)

app = typer.Typer(
    help="Operate the order hub: run it locally, send sample pushes, look at orders and stock.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(dev.app, name="dev")
app.add_typer(orders.app, name="order")
app.add_typer(stock.app, name="stock")
app.command("send-aftersales")(
    __import__("oms_cli.commands.send_aftersales", fromlist=["x"]).send_aftersales
)
app.add_typer(__import__("oms_cli.commands.inbox", fromlist=["app"]).app, name="inbox")
app.add_typer(__import__("oms_cli.commands.tx", fromlist=["app"]).app, name="tx")
app.add_typer(__import__("oms_cli.commands.events", fromlist=["app"]).app, name="events")
app.command("send")(send.send)
ticket.app.command("classify")(ticket_classify.classify)
ticket_ops.register(ticket.app)
ticket.app.command("import-calls")(ticket_import.import_calls)
app.add_typer(ticket.app, name="ticket")
app.add_typer(profile.app, name="profile")
app.add_typer(refund.app, name="refund")

if __name__ == "__main__":
    app()
