"""Customer messages from every channel: open a ticket or join the customer's open one.

Idempotent by (channel, request_id) (CreateTicket: its own scope). The order is the
one named, else found; the customer is resolved across identities; a new ticket is
classified (rules, then the intent model) and, for return intent, pre-accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from omslib.clock import Clock
from omslib.ids import new_id
from omslib.telemetry.attributes import SPAN_ATTR_ORDER_ID
from opentelemetry import trace

from oms_aftersales.adapters.customers_repository import KnownOrder
from oms_aftersales.adapters.repository import ThreadRow
from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.domain.classification import IntentClassifier, classify
from oms_aftersales.domain.customers import CustomerIdentity
from oms_aftersales.domain.errors import InvalidRequest, OrderNotKnownYet
from oms_aftersales.domain.ticket import Change, Channel, Mood, Ticket, TicketState
from oms_aftersales.service_layer.commands import (
    MAX_REQUEST_ID,
    MAX_SHORT,
    MAX_TEXT,
    CustomerMessage,
)
from oms_aftersales.service_layer.ticket_log import TicketLog

log = logging.getLogger(__name__)
RETURN_CODE = "RET-001"


@dataclass(frozen=True)
class Intake:
    ticket: Ticket
    customer: CustomerIdentity
    created: bool
    duplicate: bool
    entry_id: str


class CustomerIntake:
    def __init__(
        self,
        uow_factory: Callable[[], AftersalesUnitOfWork],
        ticket_log: TicketLog,
        classifier: IntentClassifier,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._log = ticket_log
        self._classifier = classifier
        self._clock = clock

    async def record_message(self, cmd: CustomerMessage) -> Intake:
        """Open a ticket or add the message to the customer's open one; idempotent by
        (channel, request_id)."""
        _validate(cmd)
        if cmd.issue_code:
            self._log.catalogue.code(cmd.issue_code)
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
            if order is None and not cmd.customer.identity_keys():
                raise OrderNotKnownYet(
                    "the message names its customer only through an order not known here "
                    "yet; retry once the order's events have arrived",
                    metadata={"platform_order_id": cmd.platform_order_id[:128]},
                )
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
                known_codes=frozenset(self._log.catalogue.codes),
                fallback_code=self._log.catalogue.fallback_code,
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
                entry = self._log.catalogue.code(code)
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
            await self._log.record(uow, ticket, change, cmd.request_id, new=created)
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
    cmd.customer.validate(require_identity=not (cmd.order_id or cmd.platform_order_id))


def _call_note(cmd: CustomerMessage) -> str:
    if cmd.call_seconds is None:
        return ""
    return f"call {cmd.call_seconds} s" + (f" taken by {cmd.operator}" if cmd.operator else "")


def _actor(cmd: CustomerMessage) -> str:
    return cmd.operator or (
        "system" if cmd.channel is Channel.SYSTEM else f"customer:{cmd.channel.value.lower()}"
    )
