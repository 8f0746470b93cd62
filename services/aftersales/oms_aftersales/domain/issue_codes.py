"""The issue-code catalogue: standard problems, their departments, deadlines and templates.

Every common problem gets one code so tickets from every channel land in the
same buckets, with one responsible department, deadlines per priority and one
compensation standard (BRIEF section 3). The catalogue is configuration (see
``oms_aftersales.catalogue_file``); this module only holds and uses it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from omslib.errors import InvalidArgument

from oms_aftersales.domain.calendar import BusinessCalendar
from oms_aftersales.domain.sla import SlaTargets

# What a reply template may name; filled from the ticket and its order.
PLACEHOLDERS = frozenset(
    {
        "ticket_id",
        "order_id",
        "platform_order_id",
        "promised_ship_time",
        "customer",
        "compensation",
        "agent",
    }
)


class Priority(StrEnum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"


class UnknownIssueCode(InvalidArgument):
    reason = "UNKNOWN_ISSUE_CODE"


class UnknownTemplate(InvalidArgument):
    reason = "UNKNOWN_TEMPLATE"


@dataclass(frozen=True)
class IssueCode:
    """A standard problem and how it must be handled."""

    code: str
    title: str
    department: str
    default_priority: Priority
    targets: Mapping[Priority, SlaTargets]
    compensation_standard: str
    reply_templates: Mapping[str, str]
    # False for plain questions: they do not count as complaints in profiles.
    complaint: bool = True


@dataclass(frozen=True)
class Department:
    name: str
    calendar: str
    supervisor: str
    manager: str


@dataclass(frozen=True)
class EscalationPolicy:
    """Warning lead time and the ladder after a breach (wall-clock time after the deadline)."""

    warning_lead: timedelta
    supervisor_after: timedelta
    manager_after: timedelta


@dataclass(frozen=True)
class Catalogue:
    codes: Mapping[str, IssueCode]
    departments: Mapping[str, Department]
    calendars: Mapping[str, BusinessCalendar]
    escalation: EscalationPolicy
    # The code of a ticket nothing else matched (a plain question).
    fallback_code: str

    def code(self, code: str) -> IssueCode:
        try:
            return self.codes[code]
        except KeyError:
            raise UnknownIssueCode(
                f"unknown issue code {code!r}; known: {', '.join(sorted(self.codes))}",
                metadata={"issue_code": code[:32]},
            ) from None

    def targets(self, code: str, priority: Priority) -> SlaTargets:
        return self.code(code).targets[priority]

    def calendar_for(self, department: str) -> BusinessCalendar:
        return self.calendars[self.departments[department].calendar]


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{placeholder}``s; one without a value stays visible as ``{name}``."""
    out: list[str] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(values.get(name) or f"{{{name}}}")
    return "".join(out)


def placeholders_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
