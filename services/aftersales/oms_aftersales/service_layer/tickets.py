"""Ticket use cases for agents: reply, assign, pause, resolve, reopen, close, reclassify,
change priority; reads; and recomputing open tickets after a catalogue change. Each
change goes through ``TicketLog.record`` (see ticket_log)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from omslib.clock import Clock
from omslib.ids import new_id

from oms_aftersales.adapters.repository import AuditRow, ThreadRow, TicketQuery
from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.domain.customers import CustomerIdentity
from oms_aftersales.domain.errors import InvalidRequest, TicketNotFound
from oms_aftersales.domain.issue_codes import (
    Priority,
    UnknownIssueCode,
    UnknownTemplate,
    render_template,
)
from oms_aftersales.domain.ticket import ACTIVE, Change, Channel, Mood, Ticket
from oms_aftersales.service_layer.commands import MAX_REQUEST_ID, MAX_SHORT, MAX_TEXT
from oms_aftersales.service_layer.ticket_log import TicketLog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    customer: CustomerIdentity
    thread: list[ThreadRow]
    audit: list[AuditRow]


class TicketService:
    def __init__(
        self,
        uow_factory: Callable[[], AftersalesUnitOfWork],
        ticket_log: TicketLog,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._log = ticket_log
        self.catalogue = ticket_log.catalogue
        self._clock = clock

    # --- agent actions ---------------------------------------------------------------

    async def reply(
        self, ticket_id: str, text: str, template: str, operator: str, wait: bool, request_id: str
    ) -> tuple[Ticket, ThreadRow]:
        _check_operator(operator)
        if len(text) > MAX_TEXT or len(request_id) > MAX_REQUEST_ID:
            raise InvalidRequest("text or request_id too long")
        async with self._uow() as uow:
            if request_id:
                earlier = await uow.tickets.recorded_request("reply", request_id)
                if earlier is not None:
                    ticket = await self._load(uow, earlier[0])
                    entry = next(
                        e
                        for e in await uow.tickets.thread(ticket.ticket_id)
                        if e.entry_id == earlier[1]
                    )
                    return ticket, entry
            ticket = await self._load(uow, ticket_id, for_update=True)
            if not text:
                text = await self._render(uow, ticket, template, operator)
            if not text.strip():
                raise InvalidRequest("a reply needs text or a template")
            now = self._clock.now()
            change = ticket.reply(now, operator, wait_for_customer=wait)
            entry = ThreadRow(
                new_id(),
                ticket.ticket_id,
                "AGENT",
                Channel.SYSTEM.value,
                text,
                operator,
                request_id,
                Mood.UNKNOWN.value,
                now,
            )
            await uow.tickets.add_message(entry, ticket.customer_key)
            if request_id:
                await uow.tickets.claim_request(
                    "reply", request_id, ticket.ticket_id, entry.entry_id, now
                )
            await self._log.record(uow, ticket, change, request_id)
            await uow.commit()
        return ticket, entry

    async def assign(self, ticket_id: str, assignee: str, operator: str) -> Ticket:
        if not assignee or len(assignee) > MAX_SHORT:
            raise InvalidRequest(f"assignee must be 1 to {MAX_SHORT} characters")
        return await self._act(
            ticket_id, operator, lambda t, now: t.assign(assignee, now, operator)
        )

    async def pause(self, ticket_id: str, operator: str, reason: str) -> Ticket:
        return await self._act(ticket_id, operator, lambda t, now: t.pause(now, operator, reason))

    async def resolve(self, ticket_id: str, operator: str, resolution: str) -> Ticket:
        if len(resolution) > MAX_TEXT:
            raise InvalidRequest(f"resolution longer than {MAX_TEXT} characters")
        return await self._act(
            ticket_id, operator, lambda t, now: t.resolve(now, operator, resolution)
        )

    async def reopen(self, ticket_id: str, operator: str, reason: str) -> Ticket:
        return await self._act(ticket_id, operator, lambda t, now: t.reopen(now, operator, reason))

    async def close(self, ticket_id: str, operator: str) -> Ticket:
        return await self._act(ticket_id, operator, lambda t, now: t.close(now, operator))

    async def reclassify(self, ticket_id: str, code: str, operator: str, reason: str) -> Ticket:
        entry = self.catalogue.code(code)
        return await self._act(
            ticket_id,
            operator,
            lambda t, now: t.reclassify(code, entry.department, now, operator, reason),
        )

    async def change_priority(
        self, ticket_id: str, priority: Priority, operator: str, reason: str
    ) -> Ticket:
        return await self._act(
            ticket_id, operator, lambda t, now: t.change_priority(priority, now, operator, reason)
        )

    async def _act(
        self, ticket_id: str, operator: str, action: Callable[[Ticket, datetime], Change]
    ) -> Ticket:
        _check_operator(operator)
        async with self._uow() as uow:
            ticket = await self._load(uow, ticket_id, for_update=True)
            change = action(ticket, self._clock.now())
            await self._log.record(uow, ticket, change, "")
            await uow.commit()
        return ticket

    # --- reads --------------------------------------------------------------------------

    async def get(self, ticket_id: str) -> TicketView:
        async with self._uow() as uow:
            ticket = await self._load(uow, ticket_id)
            return TicketView(
                ticket,
                await uow.customers.identities(ticket.customer_key),
                await uow.tickets.thread(ticket_id),
                await uow.tickets.audit_trail(ticket_id),
            )

    async def list_tickets(
        self, query: TicketQuery, page_size: int, token: str
    ) -> tuple[list[Ticket], str]:
        async with self._uow() as uow:
            return await uow.tickets.page(query, page_size, token)

    async def recompute_open(self, batch: int = 200) -> int:
        """Every active ticket's deadlines and timers from its history with the catalogue
        loaded now (run at start-up: codes, targets or calendars may have changed). A
        ticket whose deadlines moved gets an audit row and an event; the count is returned."""
        changed, after = 0, ""
        states = [s.value for s in ACTIVE]
        while True:
            async with self._uow() as uow:
                ids = await uow.tickets.active_ids(states, after, batch)
            if not ids:
                return changed
            for ticket_id in ids:
                changed += await self._recompute_one(ticket_id)
            after = ids[-1]

    async def _recompute_one(self, ticket_id: str) -> int:
        async with self._uow() as uow:
            ticket = await uow.tickets.get(ticket_id, for_update=True)
            if ticket is None or ticket.state not in ACTIVE:
                return 0
            before = ticket.deadlines
            try:
                await self._log.recompute(uow, ticket)
            except UnknownIssueCode:
                log.error(
                    "open ticket has a code the catalogue no longer has; reclassify it",
                    extra={"ticket_id": ticket_id, "issue_code": ticket.issue_code},
                )
                return 0
            if ticket.deadlines == before:
                return 0
            summary = ticket.summary()
            note = (
                f"catalogue changed: nearest due {before.nearest()} -> {ticket.deadlines.nearest()}"
            )
            change = Change("sla_recomputed", "system", summary, summary, self._clock.now(), note)
            await self._log.record(uow, ticket, change)
            await uow.commit()
        return 1

    # --- shared ---------------------------------------------------------------------------

    async def _load(
        self, uow: AftersalesUnitOfWork, ticket_id: str, *, for_update: bool = False
    ) -> Ticket:
        ticket = await uow.tickets.get(ticket_id, for_update=for_update)
        if ticket is None:
            raise TicketNotFound(
                f"ticket {ticket_id[:40]!r} not found", metadata={"ticket_id": ticket_id[:40]}
            )
        return ticket

    async def _render(
        self, uow: AftersalesUnitOfWork, ticket: Ticket, template: str, agent: str
    ) -> str:
        code = self.catalogue.code(ticket.issue_code)
        if template not in code.reply_templates:
            raise UnknownTemplate(
                f"issue code {code.code} has no template {template[:40]!r}; "
                f"it has {sorted(code.reply_templates)}"
            )
        order = await uow.customers.order(ticket.order_id) if ticket.order_id else None
        tz = ZoneInfo(self.catalogue.calendar_for(ticket.department).time_zone)
        values = {
            "ticket_id": ticket.ticket_id,
            "agent": agent,
            "compensation": code.compensation_standard,
            "customer": ticket.customer_key.rsplit(":", 1)[-1],
        }
        if order is not None:
            values["order_id"] = order.order_id
            values["platform_order_id"] = order.platform_order_id
            if order.promised_ship_at:
                values["promised_ship_time"] = order.promised_ship_at.astimezone(tz).strftime(
                    "%Y-%m-%d %H:%M"
                )
        return render_template(code.reply_templates[template], values)


def _check_operator(operator: str) -> None:
    if not operator or len(operator) > MAX_SHORT:
        raise InvalidRequest(f"operator must be 1 to {MAX_SHORT} characters")
