"""Every change to a ticket goes through ``TicketLog.record``: deadlines recomputed from
the ticket's history with the loaded catalogue, its timers replaced, the row saved, an
audit row and a TicketChanged event written, all in the caller's transaction."""

from __future__ import annotations

from oms.events.v1.aftersales_events_pb2 import TicketChanged
from omslib.outbox import STREAM_AFTERSALES
from omslib.telemetry import current_traceparent

from oms_aftersales.adapters.proto_mapping import ticket_to_proto
from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.domain.issue_codes import Catalogue
from oms_aftersales.domain.sla import compute_deadlines
from oms_aftersales.domain.ticket import Change, Ticket
from oms_aftersales.domain.timers import plan_timers

TICKET = "ticket"


class TicketLog:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    async def recompute(self, uow: AftersalesUnitOfWork, ticket: Ticket) -> None:
        """Deadlines and timers from the ticket's history with today's catalogue."""
        calendar = self.catalogue.calendar_for(ticket.department)
        targets = self.catalogue.targets(ticket.issue_code, ticket.priority)
        ticket.deadlines = compute_deadlines(ticket.sla_history(), targets, calendar)
        await uow.tickets.replace_timers(
            ticket.ticket_id,
            plan_timers(ticket.deadlines, ticket.escalation, self.catalogue.escalation),
        )

    async def record(
        self,
        uow: AftersalesUnitOfWork,
        ticket: Ticket,
        change: Change,
        request_id: str = "",
        *,
        new: bool = False,
    ) -> None:
        await self.recompute(uow, ticket)
        if new:
            await uow.tickets.add(ticket)
        else:
            await uow.tickets.save(ticket)
        await uow.tickets.audit(ticket.ticket_id, change, request_id, _trace_id())
        customer = await uow.customers.identities(ticket.customer_key)
        await uow.emit(
            STREAM_AFTERSALES,
            TICKET,
            ticket.ticket_id,
            TicketChanged(
                ticket=ticket_to_proto(ticket, customer), action=change.action, actor=change.actor
            ),
            occur_time=change.at,
        )


def _trace_id() -> str:
    tp = current_traceparent() or ""
    parts = tp.split("-")
    return parts[1] if len(parts) == 4 else ""
