"""Proto <-> domain conversion for the aftersales API and its events (no business rules)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from oms.aftersales.v1 import aftersales_pb2 as pb
from oms.type.v1 import money_pb2, platform_pb2

from oms_aftersales.adapters.repository import AuditRow, ThreadRow
from oms_aftersales.domain.customers import CustomerIdentity
from oms_aftersales.domain.issue_codes import IssueCode, Priority
from oms_aftersales.domain.profile import Profile
from oms_aftersales.domain.ticket import Channel, Escalation, Mood, Ticket, TicketState

TICKETS = "tickets/"


def stamp(when: datetime | None) -> Timestamp | None:
    if when is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


def time_from(message: Any, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    return getattr(message, field).ToDatetime(tzinfo=UTC)


def duration(td: Any) -> Duration:
    d = Duration()
    d.FromTimedelta(td)
    return d


def _enum(enum_type: Any, prefix: str, name: str) -> Any:
    return enum_type.Value(f"{prefix}_{name}")


def _name(enum_type: Any, prefix: str, value: int) -> str | None:
    if value == 0:
        return None
    try:
        return str(enum_type.Name(value)).removeprefix(prefix + "_")
    except ValueError:
        return None


def channel_from_proto(value: int) -> Channel | None:
    name = _name(pb.Channel, "CHANNEL", value)
    return Channel(name) if name else None


def channel_to_proto(c: Channel) -> Any:
    return _enum(pb.Channel, "CHANNEL", c.value)


def priority_from_proto(value: int) -> Priority | None:
    name = _name(pb.Priority, "PRIORITY", value)
    return Priority(name) if name else None


def priority_to_proto(p: Priority) -> Any:
    return _enum(pb.Priority, "PRIORITY", p.value)


def state_from_proto(value: int) -> TicketState | None:
    name = _name(pb.TicketState, "TICKET_STATE", value)
    return TicketState(name) if name else None


def mood_to_proto(m: Mood) -> Any:
    return pb.MOOD_UNSPECIFIED if m is Mood.UNKNOWN else _enum(pb.Mood, "MOOD", m.value)


def escalation_to_proto(e: Escalation) -> Any:
    return (
        pb.ESCALATION_LEVEL_UNSPECIFIED
        if e is Escalation.NONE
        else _enum(pb.EscalationLevel, "ESCALATION_LEVEL", e.name)
    )


def platform_from_proto(value: int) -> str:
    return (_name(platform_pb2.Platform, "PLATFORM", value) or "").lower()


def platform_to_proto(platform: str) -> Any:
    if not platform:
        return platform_pb2.PLATFORM_UNSPECIFIED
    return platform_pb2.Platform.Value(f"PLATFORM_{platform.upper()}")


def identity_from_proto(c: pb.CustomerIdentity) -> CustomerIdentity:
    return CustomerIdentity(
        platform=platform_from_proto(c.platform),
        buyer_id=c.buyer_id.strip(),
        phone=c.phone.strip(),
        wechat_openid=c.wechat_openid.strip(),
    )


def identity_to_proto(c: CustomerIdentity) -> pb.CustomerIdentity:
    return pb.CustomerIdentity(
        platform=platform_to_proto(c.platform),
        buyer_id=c.buyer_id,
        phone=c.phone,
        wechat_openid=c.wechat_openid,
    )


def ticket_name(ticket_id: str) -> str:
    return TICKETS + ticket_id


def ticket_to_proto(t: Ticket, customer: CustomerIdentity | None = None) -> pb.Ticket:
    d = t.deadlines
    sla = pb.SlaClocks(
        first_response_due_time=stamp(d.first_response),
        next_update_due_time=stamp(d.next_update),
        resolution_due_time=stamp(d.resolution),
        paused=d.paused,
        paused_intervals=[
            pb.PausedInterval(start_time=stamp(p.start), end_time=stamp(p.end)) for p in t.pauses
        ],
        calendar=d.calendar,
        first_response_time=stamp(t.first_response_at),
    )
    return pb.Ticket(
        name=ticket_name(t.ticket_id),
        ticket_id=t.ticket_id,
        issue_code=t.issue_code,
        channel=channel_to_proto(t.channel),
        order=f"orders/{t.order_id}" if t.order_id else "",
        customer=identity_to_proto(customer) if customer else None,
        description=t.description,
        state=_enum(pb.TicketState, "TICKET_STATE", t.state.value),
        assignee=t.assignee,
        department=t.department,
        priority=priority_to_proto(t.priority),
        escalation=escalation_to_proto(t.escalation),
        sla=sla,
        handling_count=t.handling_count,
        first_contact_resolution=t.first_contact_resolution,
        mood=mood_to_proto(t.mood),
        intent=t.intent,
        classified_by=t.classified_by,
        platform_case=pb.PlatformCase(
            case_id=t.platform_case_id,
            kind=_enum(pb.PlatformCaseKind, "PLATFORM_CASE_KIND", t.platform_case_kind)
            if t.platform_case_kind
            else pb.PLATFORM_CASE_KIND_UNSPECIFIED,
        )
        if t.platform_case_id
        else None,
        merchant_id=t.merchant_id,
        create_time=stamp(t.opened_at),
        update_time=stamp(t.updated_at),
        resolve_time=stamp(t.resolved_at),
        resolution=t.resolution,
    )


def thread_entry_to_proto(e: ThreadRow) -> pb.ThreadEntry:
    return pb.ThreadEntry(
        entry_id=e.entry_id,
        kind=_enum(pb.ThreadEntryKind, "THREAD_ENTRY_KIND", e.kind),
        channel=_enum(pb.Channel, "CHANNEL", e.channel),
        text=e.text,
        author=e.author,
        request_id=e.request_id,
        create_time=stamp(e.created_at),
    )


def audit_to_proto(a: AuditRow) -> pb.AuditEntry:
    return pb.AuditEntry(
        action=a.action,
        actor=a.actor,
        before=a.before,
        after=a.after + (f" ({a.note})" if a.note else ""),
        request_id=a.request_id,
        trace_id=a.trace_id,
        create_time=stamp(a.created_at),
    )


def issue_code_to_proto(code: IssueCode) -> pb.IssueCode:
    normal = code.targets[Priority.NORMAL]
    return pb.IssueCode(
        code=code.code,
        title=code.title,
        responsible_department=code.department,
        response_deadline=duration(normal.first_response),
        resolution_deadline=duration(normal.resolution),
        compensation_standard=code.compensation_standard,
        default_priority=priority_to_proto(code.default_priority),
        deadlines=[
            pb.PriorityDeadlines(
                priority=priority_to_proto(p),
                first_response=duration(t.first_response),
                next_update=duration(t.next_update),
                resolution=duration(t.resolution),
            )
            for p, t in code.targets.items()
        ],
        reply_templates=dict(code.reply_templates),
    )


def profile_to_proto(p: Profile, identity: CustomerIdentity) -> pb.CustomerProfile:
    return pb.CustomerProfile(
        name=f"customers/{p.customer_key}",
        customer=identity_to_proto(identity),
        order_count=p.order_count,
        total_spend=money_pb2.Money(minor_units=p.total_spend_minor_units, currency_code=p.currency)
        if p.currency
        else None,
        ticket_count=p.ticket_count,
        complaint_count=p.complaint_count,
        complaint_rate_per_mille=p.complaint_rate_per_mille,
        channels=[
            pb.ChannelUse(channel=channel_to_proto(c), message_count=n)
            for c, n in sorted(p.channels.items(), key=lambda kv: -kv[1])
        ],
        preferred_channel=channel_to_proto(p.preferred_channel)
        if p.preferred_channel
        else pb.CHANNEL_UNSPECIFIED,
        last_mood=mood_to_proto(p.last_mood),
        mood_trend=_enum(pb.MoodTrend, "MOOD_TREND", p.mood_trend)
        if p.mood_trend
        else pb.MOOD_TREND_UNSPECIFIED,
        tags=[pb.CustomerTag(tag=t.tag, rule=t.rule, set_time=stamp(t.set_time)) for t in p.tags],
        recent_issue_codes=list(p.recent_issue_codes),
        recent_tickets=[ticket_name(t) for t in p.recent_tickets],
    )
