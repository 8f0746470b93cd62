"""Ticket <-> row conversion (the aggregate stays free of SQLAlchemy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oms_aftersales.domain.issue_codes import Priority
from oms_aftersales.domain.sla import Deadlines, Pause
from oms_aftersales.domain.ticket import Channel, Escalation, Mood, Ticket, TicketState


def ticket_to_row(t: Ticket) -> dict[str, Any]:
    d = t.deadlines
    return {
        "ticket_id": t.ticket_id,
        "merchant_id": t.merchant_id,
        "channel": t.channel.value,
        "customer_key": t.customer_key,
        "order_id": t.order_id,
        "description": t.description,
        "issue_code": t.issue_code,
        "department": t.department,
        "priority": t.priority.value,
        "classified_by": t.classified_by,
        "intent": t.intent,
        "mood": t.mood.value,
        "state": t.state.value,
        "assignee": t.assignee,
        "escalation": int(t.escalation),
        "opened_at": t.opened_at,
        "updated_at": t.updated_at or t.opened_at,
        "first_response_at": t.first_response_at,
        "awaiting_update_since": t.awaiting_update_since,
        "resolved_at": t.resolved_at,
        "resolution": t.resolution,
        "handling_count": t.handling_count,
        "reopen_count": t.reopen_count,
        "handled_since_open": t.handled_since_open,
        "pauses": [
            [p.start.isoformat(), p.end.isoformat() if p.end else None, p.reason] for p in t.pauses
        ],
        "platform_case_id": t.platform_case_id,
        "platform_case_kind": t.platform_case_kind,
        "first_response_due": d.first_response,
        "next_update_due": d.next_update,
        "resolution_due": d.resolution,
        "nearest_due": d.nearest(),
        "paused": d.paused,
        "sla_calendar": d.calendar,
    }


def ticket_from_row(r: Any) -> Ticket:
    return Ticket(
        ticket_id=r.ticket_id,
        merchant_id=r.merchant_id,
        channel=Channel(r.channel),
        customer_key=r.customer_key,
        order_id=r.order_id,
        description=r.description,
        issue_code=r.issue_code,
        department=r.department,
        priority=Priority(r.priority),
        classified_by=r.classified_by,
        intent=r.intent,
        mood=Mood(r.mood),
        opened_at=r.opened_at,
        state=TicketState(r.state),
        assignee=r.assignee,
        escalation=Escalation(r.escalation),
        updated_at=r.updated_at,
        first_response_at=r.first_response_at,
        awaiting_update_since=r.awaiting_update_since,
        resolved_at=r.resolved_at,
        resolution=r.resolution,
        handling_count=r.handling_count,
        reopen_count=r.reopen_count,
        handled_since_open=r.handled_since_open,
        pauses=[
            Pause(datetime.fromisoformat(s), datetime.fromisoformat(e) if e else None, reason)
            for s, e, reason in r.pauses
        ],
        platform_case_id=r.platform_case_id,
        platform_case_kind=r.platform_case_kind,
        deadlines=Deadlines(
            r.first_response_due,
            r.next_update_due,
            r.resolution_due,
            bool(r.paused),
            r.sla_calendar,
        ),
    )
