"""Customer profiles, built from the customer's tickets, messages and orders.

A profile is computed on read from the stored facts, so it is never out of step
with them; the tags carry the rule (with its figures) that set them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from oms_aftersales.domain.ticket import Channel, Mood

RETURN_CODE = "RET-001"
MOOD_SCORE = {Mood.CALM: 0, Mood.UNHAPPY: 1, Mood.ANGRY: 2}


@dataclass(frozen=True)
class TagRules:
    returns_window: timedelta = timedelta(days=90)
    returns_min: int = 3
    vip_spend_minor_units: int = 500_000
    complaints_window: timedelta = timedelta(days=30)
    complaints_min: int = 3


@dataclass(frozen=True)
class OrderFact:
    order_id: str
    total_minor_units: int
    currency: str
    time: datetime


@dataclass(frozen=True)
class TicketFact:
    ticket_id: str
    issue_code: str
    complaint: bool
    opened_at: datetime


@dataclass(frozen=True)
class MessageFact:
    channel: Channel
    mood: Mood
    time: datetime


@dataclass(frozen=True)
class Tag:
    tag: str
    rule: str
    set_time: datetime


@dataclass(frozen=True)
class Profile:
    customer_key: str
    order_count: int
    total_spend_minor_units: int
    currency: str
    ticket_count: int
    complaint_count: int
    complaint_rate_per_mille: int
    channels: dict[Channel, int]
    preferred_channel: Channel | None
    last_mood: Mood
    mood_trend: str  # "", "IMPROVING", "STABLE", "WORSENING"
    tags: tuple[Tag, ...]
    recent_issue_codes: tuple[str, ...]
    recent_tickets: tuple[str, ...]


def build_profile(
    customer_key: str,
    orders: list[OrderFact],
    tickets: list[TicketFact],
    messages: list[MessageFact],
    now: datetime,
    rules: TagRules = TagRules(),
) -> Profile:
    """``tickets`` and ``messages`` in any order; the profile sorts what it shows."""
    tickets = sorted(tickets, key=lambda t: t.opened_at, reverse=True)
    messages = sorted(messages, key=lambda m: m.time)
    currency = orders[0].currency if orders else ""
    spend = sum(o.total_minor_units for o in orders if o.currency == currency)
    complaints = [t for t in tickets if t.complaint]
    channels = Counter(m.channel for m in messages)
    preferred = (
        max(channels, key=lambda c: (channels[c], _last_use(messages, c))) if channels else None
    )
    moods = [m.mood for m in messages if m.mood in MOOD_SCORE]
    return Profile(
        customer_key=customer_key,
        order_count=len(orders),
        total_spend_minor_units=spend,
        currency=currency,
        ticket_count=len(tickets),
        complaint_count=len(complaints),
        complaint_rate_per_mille=(len(complaints) * 1000 // len(orders)) if orders else 0,
        channels=dict(channels),
        preferred_channel=preferred,
        last_mood=moods[-1] if moods else Mood.UNKNOWN,
        mood_trend=mood_trend(moods),
        tags=_tags(orders, tickets, complaints, spend, currency, now, rules),
        recent_issue_codes=tuple(t.issue_code for t in tickets[:10]),
        recent_tickets=tuple(t.ticket_id for t in tickets[:10]),
    )


def mood_trend(moods: list[Mood]) -> str:
    """Latest two moods against the three before them; "" with fewer than three moods."""
    if len(moods) < 3:
        return ""
    recent = [MOOD_SCORE[m] for m in moods[-2:]]
    earlier = [MOOD_SCORE[m] for m in moods[-5:-2]]
    delta = sum(recent) / len(recent) - sum(earlier) / len(earlier)
    if delta >= 0.5:
        return "WORSENING"
    if delta <= -0.5:
        return "IMPROVING"
    return "STABLE"


def _last_use(messages: list[MessageFact], channel: Channel) -> datetime:
    return max(m.time for m in messages if m.channel is channel)


def _tags(
    orders: list[OrderFact],
    tickets: list[TicketFact],
    complaints: list[TicketFact],
    spend: int,
    currency: str,
    now: datetime,
    rules: TagRules,
) -> tuple[Tag, ...]:
    tags: list[Tag] = []
    returns = [t for t in tickets if t.issue_code == RETURN_CODE]
    recent_returns = [t for t in returns if t.opened_at >= now - rules.returns_window]
    if len(recent_returns) >= rules.returns_min:
        tags.append(
            Tag(
                "frequent_returner",
                f"{len(recent_returns)} return tickets in {rules.returns_window.days} days "
                f"(>= {rules.returns_min})",
                recent_returns[rules.returns_min - 1].opened_at,
            )
        )
    if orders and spend >= rules.vip_spend_minor_units:
        tags.append(
            Tag(
                "vip",
                f"spend {spend} {currency} minor units over {len(orders)} orders "
                f"(>= {rules.vip_spend_minor_units})",
                max(o.time for o in orders),
            )
        )
    recent_complaints = [t for t in complaints if t.opened_at >= now - rules.complaints_window]
    if len(recent_complaints) >= rules.complaints_min:
        tags.append(
            Tag(
                "repeat_complainer",
                f"{len(recent_complaints)} complaints in {rules.complaints_window.days} days "
                f"(>= {rules.complaints_min})",
                recent_complaints[rules.complaints_min - 1].opened_at,
            )
        )
    return tuple(tags)
