"""`oms ticket list|show|reply|assign|pause|resolve|reopen`: work the after-sales queue."""

from __future__ import annotations

from typing import Annotated

import typer
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.aftersales.v1 import aftersales_service_pb2_grpc as pb_grpc
from rich.table import Table

from oms_cli import render
from oms_cli.rpc import call, service_addr

AddrOption = Annotated[
    str | None,
    typer.Option("--aftersales", help="aftersales address (default: $OMS_AFTERSALES_ADDR)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print the raw resource as JSON")]
OperatorOption = Annotated[str, typer.Option("--as", help="who acts (recorded in the audit trail)")]


def ticket_name(ref: str) -> str:
    return ref if ref.startswith("tickets/") else f"tickets/{ref}"


def _stub_call(addr: str | None, method: str, request: object) -> object:
    return call(
        "aftersales",
        service_addr("aftersales", addr),
        lambda channel: getattr(pb_grpc.AftersalesServiceStub(channel), method)(
            request, timeout=10
        ),
    )


def _state(value: int) -> str:
    return render.enum_name(apb.TicketState, value, "TICKET_STATE_")


def _due(ticket: apb.Ticket) -> str:
    sla = ticket.sla
    if sla.paused:
        return "paused"
    stamps = [
        s
        for s in (sla.first_response_due_time, sla.next_update_due_time, sla.resolution_due_time)
        if s.seconds
    ]
    return render.timestamp(min(stamps, key=lambda s: s.seconds)) if stamps else "-"


def print_ticket(ticket: apb.Ticket) -> None:
    t = ticket
    console = render.console
    console.print(
        f"[bold]{t.name}[/bold]  {t.issue_code}  {_state(t.state)}  "
        f"priority {render.enum_name(apb.Priority, t.priority, 'PRIORITY_')}  "
        f"dept {t.department}  assignee {t.assignee or '-'}"
    )
    console.print(
        f"channel {render.enum_name(apb.Channel, t.channel, 'CHANNEL_')}  "
        f"order {t.order or '-'}  mood {render.enum_name(apb.Mood, t.mood, 'MOOD_')}  "
        f"classified by {t.classified_by}  escalation "
        f"{render.enum_name(apb.EscalationLevel, t.escalation, 'ESCALATION_LEVEL_')}"
    )
    s = t.sla
    console.print(
        f"due: first response {render.timestamp(s.first_response_due_time)} | "
        f"next update {render.timestamp(s.next_update_due_time)} | "
        f"resolution {render.timestamp(s.resolution_due_time)}"
        + ("  [yellow](paused)[/yellow]" if s.paused else "")
    )
    for p in s.paused_intervals:
        console.print(
            f"  paused {render.timestamp(p.start_time)} -> {render.timestamp(p.end_time)}"
        )
    console.print(
        f"handled {t.handling_count}x, first-contact resolution: "
        f"{'yes' if t.first_contact_resolution else 'no'}"
    )


def _print_rows(tickets: list[apb.Ticket]) -> None:
    table = Table(title_justify="left")
    table.add_column("ticket", no_wrap=True, min_width=26)
    for column in ("code", "state", "priority", "dept", "assignee", "next due", "esc."):
        table.add_column(column)
    for t in tickets:
        table.add_row(
            t.ticket_id,
            t.issue_code,
            _state(t.state),
            render.enum_name(apb.Priority, t.priority, "PRIORITY_"),
            t.department,
            t.assignee or "-",
            _due(t),
            render.enum_name(apb.EscalationLevel, t.escalation, "ESCALATION_LEVEL_"),
        )
    render.console.print(table)


def list_tickets(
    state: Annotated[list[str] | None, typer.Option(help="only these states, e.g. OPEN")] = None,
    department: Annotated[str, typer.Option(help="only this department's queue")] = "",
    assignee: Annotated[str, typer.Option(help="only this agent's tickets")] = "",
    code: Annotated[str, typer.Option(help="only this issue code")] = "",
    newest: Annotated[
        bool, typer.Option("--newest", help="newest first (default: nearest deadline first)")
    ] = False,
    page_size: Annotated[int, typer.Option(min=1, max=500)] = 50,
    page_token: Annotated[str, typer.Option(help="the token printed under the previous page")] = "",
    aftersales: AddrOption = None,
) -> None:
    """List tickets, nearest deadline first."""
    try:
        states = [apb.TicketState.Value(f"TICKET_STATE_{s.upper()}") for s in state or []]
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    request = pb.ListTicketsRequest(
        states=states,
        department=department,
        assignee=assignee,
        issue_code=code,
        page_size=page_size,
        page_token=page_token,
        order_by=pb.TICKET_ORDER_BY_NEWEST if newest else pb.TICKET_ORDER_BY_NEAREST_DEADLINE,
    )
    reply = _stub_call(aftersales, "ListTickets", request)
    assert isinstance(reply, pb.ListTicketsResponse)
    _print_rows(list(reply.tickets))
    if reply.next_page_token:
        render.console.print(f"next page: --page-token {reply.next_page_token}")


def show_ticket(
    ticket: Annotated[str, typer.Argument(help="ticket id or tickets/<id>")],
    aftersales: AddrOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a ticket: deadlines, pauses, thread, audit trail and the customer's profile."""
    reply = _stub_call(aftersales, "GetTicket", pb.GetTicketRequest(name=ticket_name(ticket)))
    assert isinstance(reply, pb.GetTicketResponse)
    if as_json:
        render.print_json(reply)
        return
    print_ticket(reply.ticket)
    console = render.console
    console.print("[bold]thread[/bold]")
    for e in reply.thread:
        who = (
            e.author or render.enum_name(apb.ThreadEntryKind, e.kind, "THREAD_ENTRY_KIND_").lower()
        )
        console.print(f"  {render.timestamp(e.create_time)} {who}: {e.text}")
    if reply.refunds:
        console.print("[bold]refunds[/bold]")
        for r in reply.refunds:
            console.print(f"  {refund_summary(r)}")
    console.print("[bold]audit[/bold]")
    for a in reply.audit:
        console.print(f"  {render.timestamp(a.create_time)} {a.actor} {a.action}: {a.after}")
    print_profile(reply.profile)


def refund_summary(r: apb.Refund) -> str:
    """One line of a refund, as a ticket lists its refunds."""
    state = render.enum_name(apb.RefundState, r.state, "REFUND_STATE_")
    return (
        f"{r.name}  {state}  {render.money(r.amount)}  via {r.payout_path or '-'}"
        + (f" {r.payout_reference}" if r.payout_reference else "")
        + (f"  ({r.state_reason})" if r.state_reason else "")
    )


def print_profile(p: apb.CustomerProfile) -> None:
    console = render.console
    console.print(f"[bold]{p.name}[/bold]")
    console.print(
        f"  orders {p.order_count}, tickets {p.ticket_count}, complaints {p.complaint_count} "
        f"({p.complaint_rate_per_mille / 10:.1f}% of orders)"
        + (f", spend {render.money(p.total_spend)}" if p.HasField("total_spend") else "")
    )
    channels = ", ".join(
        f"{render.enum_name(apb.Channel, c.channel, 'CHANNEL_')} {c.message_count}"
        for c in p.channels
    )
    console.print(
        f"  channels: {channels or '-'}; preferred "
        f"{render.enum_name(apb.Channel, p.preferred_channel, 'CHANNEL_')}"
    )
    console.print(
        f"  last mood {render.enum_name(apb.Mood, p.last_mood, 'MOOD_')}, trend "
        f"{render.enum_name(apb.MoodTrend, p.mood_trend, 'MOOD_TREND_')}"
    )
    for tag in p.tags:
        console.print(f"  tag {tag.tag}: {tag.rule}")


def _print_changed(reply: object) -> None:
    ticket = getattr(reply, "ticket", None)
    if isinstance(ticket, apb.Ticket):
        print_ticket(ticket)


def reply_ticket(
    ticket: Annotated[str, typer.Argument(help="ticket id or tickets/<id>")],
    text: Annotated[str, typer.Option(help="the reply")] = "",
    template: Annotated[str, typer.Option(help="a reply template of the ticket's issue code")] = "",
    wait: Annotated[
        bool, typer.Option("--wait", help="the reply asks the customer something: pause the clocks")
    ] = False,
    operator: OperatorOption = "operator",
    request_id: Annotated[str, typer.Option(help="makes a retried reply count once")] = "",
    aftersales: AddrOption = None,
) -> None:
    """Reply to the customer (text or a template filled from the order)."""
    if not text and not template:
        raise typer.BadParameter("give --text or --template")
    request = pb.ReplyToTicketRequest(
        name=ticket_name(ticket),
        text=text,
        template=template,
        operator=operator,
        wait_for_customer=wait,
        request_id=request_id,
    )
    reply = _stub_call(aftersales, "ReplyToTicket", request)
    assert isinstance(reply, pb.ReplyToTicketResponse)
    render.console.print(f"sent: {reply.entry.text}")
    print_ticket(reply.ticket)


def assign_ticket(
    ticket: Annotated[str, typer.Argument(help="ticket id or tickets/<id>")],
    assignee: Annotated[str, typer.Argument(help="the agent")],
    operator: OperatorOption = "operator",
    aftersales: AddrOption = None,
) -> None:
    """Give a ticket to an agent."""
    request = pb.AssignTicketRequest(name=ticket_name(ticket), assignee=assignee, operator=operator)
    _print_changed(_stub_call(aftersales, "AssignTicket", request))


def pause_ticket(
    ticket: Annotated[str, typer.Argument(help="ticket id or tickets/<id>")],
    reason: Annotated[str, typer.Option(help="what we wait for")] = "",
    operator: OperatorOption = "operator",
    aftersales: AddrOption = None,
) -> None:
    """Wait for the customer: the clocks stop until they write again."""
    request = pb.PauseTicketRequest(name=ticket_name(ticket), reason=reason, operator=operator)
    _print_changed(_stub_call(aftersales, "PauseTicket", request))


def resolve_ticket(
    ticket: Annotated[str, typer.Argument(help="ticket id or tickets/<id>")],
    resolution: Annotated[str, typer.Option(help="what was done")] = "",
    operator: OperatorOption = "operator",
    aftersales: AddrOption = None,
) -> None:
    """Mark a ticket resolved."""
    request = pb.ResolveTicketRequest(
        name=ticket_name(ticket), resolution=resolution, operator=operator
    )
    _print_changed(_stub_call(aftersales, "ResolveTicket", request))


def reopen_ticket(
    ticket: Annotated[str, typer.Argument(help="ticket id or tickets/<id>")],
    reason: Annotated[str, typer.Option(help="why")] = "",
    operator: OperatorOption = "operator",
    aftersales: AddrOption = None,
) -> None:
    """Reopen a resolved ticket."""
    request = pb.ReopenTicketRequest(name=ticket_name(ticket), reason=reason, operator=operator)
    _print_changed(_stub_call(aftersales, "ReopenTicket", request))


def register(app: typer.Typer) -> None:
    app.command("list")(list_tickets)
    app.command("show")(show_ticket)
    app.command("reply")(reply_ticket)
    app.command("assign")(assign_ticket)
    app.command("pause")(pause_ticket)
    app.command("resolve")(resolve_ticket)
    app.command("reopen")(reopen_ticket)
