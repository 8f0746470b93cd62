"""Ticket use cases: intake from every channel, the agent actions, reads.

Every change goes through ``_record``: deadlines recomputed from the ticket's
history, its timers replaced, the row saved, an audit row and a TicketChanged
event written, all in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from oms.events.v1.aftersales_events_pb2 import TicketChanged
from omslib.clock import Clock
from omslib.ids import new_id
from omslib.outbox import STREAM_AFTERSALES
from omslib.telemetry import current_traceparent
from omslib.telemetry.attributes import SPAN_ATTR_ORDER_ID
from opentelemetry import trace

from oms_aftersales.adapters.customers_repository import KnownOrder
from oms_aftersales.adapters.repository import AuditRow, ThreadRow, TicketQuery
from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.domain.classification import IntentClassifier, classify
from oms_aftersales.domain.customers import CustomerIdentity
from oms_aftersales.domain.errors import InvalidRequest, TicketNotFound
from oms_aftersales.domain.issue_codes import (
    Catalogue,
    Priority,
    UnknownIssueCode,
    UnknownTemplate,
    render_template,
)
from oms_aftersales.domain.sla import compute_deadlines
from oms_aftersales.domain.ticket import ACTIVE, Change, Channel, Mood, Ticket, TicketState
from oms_aftersales.domain.timers import plan_timers
from oms_aftersales.entrypoints.proto_mapping import ticket_to_proto
from oms_aftersales.service_layer.commands import (
    MAX_REQUEST_ID,
    MAX_SHORT,
    MAX_TEXT,
    CustomerMessage,
)

log = logging.getLogger(__name__)
TICKET = "ticket"
RETURN_CODE = "RET-001"


@dataclass(frozen=True)
class Intake:
    ticket: Ticket
    customer: CustomerIdentity
    created: bool
    duplicate: bool
    entry_id: str


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
        catalogue: Catalogue,
        classifier: IntentClassifier,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self.catalogue = catalogue
        self._classifier = classifier
        self._clock = clock

    # --- intake ---------------------------------------------------------------------

    async def record_message(self, cmd: CustomerMessage) -> Intake:
        """Open a ticket or add the message to the customer's open one; idempotent by
        (channel, request_id)."""
        _validate(cmd)
        if cmd.issue_code:
            self.catalogue.code(cmd.issue_code)
        now = self._clock.now()
        at = min(cmd.at or now, now)
        scope = "create" if cmd.new_ticket else cmd.channel.value
        span = trace.get_current_span()
        span.set_attribute("oms.channel", cmd.channel.value)
        async with self._uow() as uow:
            earlier = await uow.tickets.recorded_request(scope, cmd.request_id)
            if earlier is not None:
                return await self._duplicate(uow, earlier)
            order = await self._find_order(uow, cmd)
            customer_key = await uow.customers.resolve(cmd.customer, order, now)
            if order is None and customer_key.startswith("buyer:"):
                order = await uow.customers.latest_order_of(customer_key)
            # An order id the events have not brought yet is still the order named.
            order_id = order.order_id if order else (cmd.order_id or None)
            existing = None
            if not cmd.new_ticket and cmd.channel is not Channel.SYSTEM:
                existing = await uow.tickets.find_open(customer_key, order_id, cmd.case_id)
            decision = classify(
                cmd.text,
                channel=cmd.channel,
                order_state=order.state if order else None,
                platform_case_kind=cmd.case_kind,
                model=self._classifier,
                known_codes=frozenset(self.catalogue.codes),
                fallback_code=self.catalogue.fallback_code,
            )
            entry_id = new_id()
            if _joins(existing, decision.code, cmd.case_id):
                assert existing is not None
                ticket, created = existing, False
                if decision.mood is not Mood.UNKNOWN:
                    ticket.mood = decision.mood
                change = ticket.customer_wrote(at, _actor(cmd), _call_note(cmd))
            else:
                code = cmd.issue_code or decision.code
                entry = self.catalogue.code(code)
                ticket = Ticket(
                    ticket_id=new_id(),
                    merchant_id=cmd.merchant_id,
                    channel=cmd.channel,
                    customer_key=customer_key,
                    order_id=order_id,
                    description=cmd.text,
                    issue_code=code,
                    department=entry.department,
                    priority=cmd.priority or entry.default_priority,
                    classified_by="agent" if cmd.issue_code else decision.classified_by,
                    intent=decision.intent,
                    mood=decision.mood,
                    opened_at=at,
                    platform_case_id=cmd.case_id,
                    platform_case_kind=cmd.case_kind,
                )
                created = True
                note = " ".join(filter(None, (decision.classified_by, _call_note(cmd))))
                change = Change("opened", _actor(cmd), "", ticket.summary(), at, note)
            if not await uow.tickets.claim_request(
                scope, cmd.request_id, ticket.ticket_id, entry_id, now
            ):
                await uow.rollback()  # a concurrent twin got there first
                async with self._uow() as again:
                    recorded = await again.tickets.recorded_request(scope, cmd.request_id)
                    assert recorded is not None
                    return await self._duplicate(again, recorded)
            kind = "SYSTEM" if cmd.channel is Channel.SYSTEM else "CUSTOMER"
            await uow.tickets.add_message(
                ThreadRow(
                    entry_id,
                    ticket.ticket_id,
                    kind,
                    cmd.channel.value,
                    cmd.text,
                    cmd.operator[:MAX_SHORT],
                    cmd.request_id,
                    decision.mood.value,
                    at,
                ),
                customer_key,
            )
            if created and ticket.issue_code == RETURN_CODE and cmd.channel is not Channel.SYSTEM:
                # Return intent seen in the buyer's own words: the return is pre-accepted
                # so they never have to ask twice.
                await uow.tickets.add_message(
                    ThreadRow(
                        new_id(),
                        ticket.ticket_id,
                        "SYSTEM",
                        Channel.SYSTEM.value,
                        "Return intent detected: return pre-accepted (RET-001).",
                        "system",
                        "",
                        Mood.UNKNOWN.value,
                        at,
                    ),
                    customer_key,
                )
            await self.record_change(uow, ticket, change, cmd.request_id, new=created)
            customer = await uow.customers.identities(customer_key)
            await uow.commit()
        span.set_attribute("oms.ticket_id", ticket.ticket_id)
        if ticket.order_id:
            span.set_attribute(SPAN_ATTR_ORDER_ID, ticket.order_id)
        log.info(
            "customer message recorded",
            extra={
                "ticket_id": ticket.ticket_id,
                "channel": cmd.channel.value,
                "ticket_created": created,
                "issue_code": ticket.issue_code,
            },
        )
        return Intake(ticket, customer, created, False, entry_id)

    async def _duplicate(self, uow: AftersalesUnitOfWork, earlier: tuple[str, str]) -> Intake:
        ticket = await uow.tickets.get(earlier[0])
        assert ticket is not None
        customer = await uow.customers.identities(ticket.customer_key)
        return Intake(ticket, customer, False, True, earlier[1])

    async def _find_order(
        self, uow: AftersalesUnitOfWork, cmd: CustomerMessage
    ) -> KnownOrder | None:
        if cmd.order_id:
            return await uow.customers.order(cmd.order_id)
        if cmd.platform and cmd.platform_order_id:
            return await uow.customers.order_by_ref(cmd.platform, cmd.platform_order_id)
        return await uow.customers.order_in_text(cmd.text, cmd.customer.identity_keys())

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
            await self.record_change(uow, ticket, change, request_id)
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
            await self.record_change(uow, ticket, change, "")
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
                await self.recompute(uow, ticket)
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
            await self.record_change(uow, ticket, change)
            await uow.commit()
        return 1

    # --- shared ---------------------------------------------------------------------------

    async def recompute(self, uow: AftersalesUnitOfWork, ticket: Ticket) -> None:
        """Deadlines and timers from the ticket's history with today's catalogue."""
        calendar = self.catalogue.calendar_for(ticket.department)
        targets = self.catalogue.targets(ticket.issue_code, ticket.priority)
        ticket.deadlines = compute_deadlines(ticket.sla_history(), targets, calendar)
        await uow.tickets.replace_timers(
            ticket.ticket_id,
            plan_timers(ticket.deadlines, ticket.escalation, self.catalogue.escalation),
        )

    async def record_change(
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


def _joins(existing: Ticket | None, code: str, case_id: str) -> bool:
    """Whether a message joins the customer's open ticket. Return intent seen in a later
    message on another problem opens its own pre-accepted RET-001 ticket instead, so the
    buyer never has to ask twice."""
    if existing is None or existing.state is TicketState.CLOSED:
        return False
    return bool(case_id) or code != RETURN_CODE or existing.issue_code == RETURN_CODE


def _validate(cmd: CustomerMessage) -> None:
    if not cmd.request_id or len(cmd.request_id) > MAX_REQUEST_ID:
        raise InvalidRequest(f"request_id must be 1 to {MAX_REQUEST_ID} characters")
    if len(cmd.merchant_id) > MAX_SHORT or len(cmd.operator) > MAX_SHORT:
        raise InvalidRequest(f"merchant_id and operator are at most {MAX_SHORT} characters")
    if len(cmd.text) > MAX_TEXT:
        raise InvalidRequest(f"text is longer than {MAX_TEXT} characters")
    if not cmd.text.strip() and not cmd.case_id:
        raise InvalidRequest("text is empty")
    if (
        len(cmd.case_id) > MAX_REQUEST_ID
        or len(cmd.order_id) > MAX_SHORT
        or len(cmd.platform_order_id) > MAX_REQUEST_ID
    ):
        raise InvalidRequest("an order or case id is too long")
    cmd.customer.validate()


def _call_note(cmd: CustomerMessage) -> str:
    if cmd.call_seconds is None:
        return ""
    return f"call {cmd.call_seconds} s" + (f" taken by {cmd.operator}" if cmd.operator else "")


def _check_operator(operator: str) -> None:
    if not operator or len(operator) > MAX_SHORT:
        raise InvalidRequest(f"operator must be 1 to {MAX_SHORT} characters")


def _actor(cmd: CustomerMessage) -> str:
    return cmd.operator or (
        "system" if cmd.channel is Channel.SYSTEM else f"customer:{cmd.channel.value.lower()}"
    )


def _trace_id() -> str:
    tp = current_traceparent() or ""
    parts = tp.split("-")
    return parts[1] if len(parts) == 4 else ""
