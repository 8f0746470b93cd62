"""The ticket aggregate: lifecycle, SLA facts, escalation level, first-contact resolution.

Each behaviour checks the lifecycle, changes the ticket and returns a ``Change``
(what happened, before and after) that the service layer writes to the audit
trail and the outbox. The deadlines are never edited: they are recomputed from
the stored facts (``sla_history``) after every change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum, StrEnum

from omslib.errors import FailedPrecondition

from oms_aftersales.domain.issue_codes import Priority
from oms_aftersales.domain.sla import Deadlines, Pause, SlaHistory


class TicketState(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING_CUSTOMER = "WAITING_CUSTOMER"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"


class Channel(StrEnum):
    PLATFORM_MESSAGE = "PLATFORM_MESSAGE"
    PLATFORM_AFTERSALE = "PLATFORM_AFTERSALE"
    WECHAT = "WECHAT"
    PHONE = "PHONE"
    WEB_FORM = "WEB_FORM"
    SYSTEM = "SYSTEM"


class Mood(StrEnum):
    UNKNOWN = "UNKNOWN"
    CALM = "CALM"
    UNHAPPY = "UNHAPPY"
    ANGRY = "ANGRY"


class Escalation(IntEnum):
    NONE = 0
    AGENT = 1
    SUPERVISOR = 2
    MANAGER = 3


# Who may still act on a ticket in each state.
ACTIVE = frozenset(
    {TicketState.OPEN, TicketState.IN_PROGRESS, TicketState.REOPENED, TicketState.WAITING_CUSTOMER}
)


class InvalidTransition(FailedPrecondition):
    reason = "INVALID_TRANSITION"


@dataclass(frozen=True)
class Change:
    """One change to a ticket, for the audit trail and the event."""

    action: str
    actor: str
    before: str
    after: str
    at: datetime
    note: str = ""


@dataclass
class Ticket:
    ticket_id: str
    merchant_id: str
    channel: Channel
    customer_key: str
    order_id: str | None
    description: str
    issue_code: str
    department: str
    priority: Priority
    classified_by: str
    intent: str
    mood: Mood
    opened_at: datetime
    state: TicketState = TicketState.OPEN
    assignee: str = ""
    escalation: Escalation = Escalation.NONE
    updated_at: datetime | None = None
    first_response_at: datetime | None = None
    awaiting_update_since: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str = ""
    handling_count: int = 0
    reopen_count: int = 0
    # True from an agent's first action after the ticket (re)opened; counts handlings.
    handled_since_open: bool = False
    pauses: list[Pause] = field(default_factory=list)
    platform_case_id: str = ""
    platform_case_kind: str = ""
    # Cached for listing and sorting; recomputed by the service after every change.
    deadlines: Deadlines = field(default_factory=Deadlines)

    @property
    def first_contact_resolution(self) -> bool:
        """Resolved at its first handling and never reopened."""
        return (
            self.state in (TicketState.RESOLVED, TicketState.CLOSED)
            and self.handling_count == 1
            and self.reopen_count == 0
        )

    def sla_history(self) -> SlaHistory:
        return SlaHistory(
            opened_at=self.opened_at,
            first_response_at=self.first_response_at,
            awaiting_update_since=self.awaiting_update_since,
            resolved=self.state in (TicketState.RESOLVED, TicketState.CLOSED),
            pauses=tuple(self.pauses),
        )

    def summary(self) -> str:
        return (
            f"state={self.state} code={self.issue_code} priority={self.priority} "
            f"assignee={self.assignee or '-'} escalation={self.escalation.name}"
        )

    # --- behaviour -------------------------------------------------------------

    def customer_wrote(self, at: datetime, actor: str, note: str = "") -> Change:
        """A later customer message: resumes a paused clock, reopens a resolved ticket."""
        before = self.summary()
        if self.state is TicketState.CLOSED:
            raise InvalidTransition("a closed ticket takes no messages; open a new one")
        if self.state is TicketState.WAITING_CUSTOMER:
            self._end_pause(at)
            self.state = TicketState.IN_PROGRESS if self.first_response_at else TicketState.OPEN
        elif self.state is TicketState.RESOLVED:
            self._reopen(at)
        if self.first_response_at is not None and self.awaiting_update_since is None:
            self.awaiting_update_since = at
        return self._changed("customer_message", actor, before, at, note)

    def reply(self, at: datetime, actor: str, *, wait_for_customer: bool) -> Change:
        """An agent's reply: meets the first-response and next-update deadlines."""
        self._require_active("reply to")
        before = self.summary()
        self._handled()
        if self.first_response_at is None:
            self.first_response_at = at
        self.awaiting_update_since = None
        if self.state is TicketState.WAITING_CUSTOMER and not wait_for_customer:
            self._end_pause(at)
        if wait_for_customer and self.state is not TicketState.WAITING_CUSTOMER:
            self.pauses.append(Pause(at, None, "waiting_customer"))
        self.state = TicketState.WAITING_CUSTOMER if wait_for_customer else TicketState.IN_PROGRESS
        return self._changed("replied", actor, before, at)

    def assign(self, assignee: str, at: datetime, actor: str) -> Change:
        self._require_active("assign")
        before = self.summary()
        self.assignee = assignee
        return self._changed("assigned", actor, before, at)

    def pause(self, at: datetime, actor: str, reason: str) -> Change:
        """Wait for the customer: the clocks stop until they write again."""
        if self.state not in (TicketState.OPEN, TicketState.IN_PROGRESS, TicketState.REOPENED):
            raise InvalidTransition(f"cannot pause a ticket that is {self.state}")
        before = self.summary()
        self.pauses.append(Pause(at, None, "waiting_customer"))
        self.state = TicketState.WAITING_CUSTOMER
        return self._changed("paused", actor, before, at, reason)

    def resolve(self, at: datetime, actor: str, resolution: str) -> Change:
        self._require_active("resolve")
        before = self.summary()
        self._handled()
        if self.state is TicketState.WAITING_CUSTOMER:
            self._end_pause(at)
        self.state = TicketState.RESOLVED
        self.resolved_at = at
        self.resolution = resolution
        self.awaiting_update_since = None
        # The resolution clock stands still while resolved; a reopening resumes it.
        self.pauses.append(Pause(at, None, "resolved"))
        return self._changed("resolved", actor, before, at, resolution)

    def reopen(self, at: datetime, actor: str, reason: str) -> Change:
        if self.state is not TicketState.RESOLVED:
            raise InvalidTransition(f"only a resolved ticket can be reopened, not {self.state}")
        before = self.summary()
        self._reopen(at)
        return self._changed("reopened", actor, before, at, reason)

    def close(self, at: datetime, actor: str) -> Change:
        if self.state is not TicketState.RESOLVED:
            raise InvalidTransition(f"only a resolved ticket can be closed, not {self.state}")
        before = self.summary()
        self.state = TicketState.CLOSED
        self._end_pause(at)
        return self._changed("closed", actor, before, at)

    def reclassify(self, code: str, department: str, at: datetime, actor: str, note: str) -> Change:
        if self.state is TicketState.CLOSED:
            raise InvalidTransition("a closed ticket cannot be reclassified")
        before = self.summary()
        self.issue_code = code
        self.department = department
        self.classified_by = "agent"
        return self._changed("reclassified", actor, before, at, note)

    def change_priority(self, priority: Priority, at: datetime, actor: str, note: str) -> Change:
        if self.state is TicketState.CLOSED:
            raise InvalidTransition("a closed ticket's priority cannot change")
        before = self.summary()
        self.priority = priority
        return self._changed("priority_changed", actor, before, at, note)

    def escalate(self, level: Escalation, at: datetime) -> Change | None:
        """Raise the escalation level; None when it is already at or above ``level``."""
        if level <= self.escalation:
            return None
        before = self.summary()
        self.escalation = level
        return self._changed("escalated", "system", before, at, level.name)

    # --- helpers -----------------------------------------------------------------

    def _require_active(self, verb: str) -> None:
        if self.state not in ACTIVE:
            raise InvalidTransition(f"cannot {verb} a ticket that is {self.state}")

    def _handled(self) -> None:
        if not self.handled_since_open:
            self.handled_since_open = True
            self.handling_count += 1

    def _reopen(self, at: datetime) -> None:
        self._end_pause(at)
        self.state = TicketState.REOPENED
        self.reopen_count += 1
        self.resolved_at = None
        self.handled_since_open = False

    def _end_pause(self, at: datetime) -> None:
        self.pauses = [p if p.end is not None else replace(p, end=at) for p in self.pauses]

    def _changed(
        self, action: str, actor: str, before: str, at: datetime, note: str = ""
    ) -> Change:
        self.updated_at = at
        return Change(action, actor, before, self.summary(), at, note[:500])
