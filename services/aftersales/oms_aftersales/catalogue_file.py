"""Loading the issue-code catalogue (codes, departments, calendars, escalation) from JSON.

The shipped default is ``default_catalogue.json`` next to this module;
``OMS_AFTERSALES_ISSUE_CODES_FILE`` names a replacement. The file is validated
in full at start-up and a bad entry is named in the error, so a typo stops the
service instead of silently dropping a code.
"""

from __future__ import annotations

import json
import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oms_aftersales.domain.calendar import BusinessCalendar
from oms_aftersales.domain.issue_codes import (
    PLACEHOLDERS,
    Catalogue,
    Department,
    EscalationPolicy,
    IssueCode,
    Priority,
    placeholders_of,
)
from oms_aftersales.domain.sla import SlaTargets

DEFAULT_FILE = Path(__file__).parent / "default_catalogue.json"
MAX_FILE_BYTES = 1_000_000
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CODE_PATTERN = r"^[A-Z]{3}-\d{3}$"

Minutes = Annotated[int, Field(gt=0, le=60 * 24 * 365)]


class CatalogueError(ValueError):
    """The catalogue file is missing, too large or invalid; the message names the entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetsModel(_Strict):
    first_response_minutes: Minutes
    next_update_minutes: Minutes
    resolution_minutes: Minutes

    def to_domain(self) -> SlaTargets:
        return SlaTargets(
            timedelta(minutes=self.first_response_minutes),
            timedelta(minutes=self.next_update_minutes),
            timedelta(minutes=self.resolution_minutes),
        )


class IssueCodeModel(_Strict):
    title: str = Field(min_length=1, max_length=120)
    department: str
    default_priority: Priority = Priority.NORMAL
    deadlines: dict[Priority, TargetsModel]
    compensation_standard: str = Field(min_length=1, max_length=1000)
    reply_templates: dict[str, Annotated[str, Field(min_length=1, max_length=2000)]] = {}
    complaint: bool = True

    @field_validator("deadlines")
    @classmethod
    def _every_priority(cls, v: dict[Priority, TargetsModel]) -> dict[Priority, TargetsModel]:
        missing = [p.value for p in Priority if p not in v]
        if missing:
            raise ValueError(f"deadlines missing for priorities {missing}")
        return v

    @field_validator("reply_templates")
    @classmethod
    def _known_placeholders(cls, v: dict[str, str]) -> dict[str, str]:
        for name, text in v.items():
            try:
                unknown = placeholders_of(text) - PLACEHOLDERS
            except ValueError as exc:
                raise ValueError(f"template {name!r}: {exc}") from None
            if unknown:
                raise ValueError(
                    f"template {name!r} uses unknown placeholders {sorted(unknown)}; "
                    f"known: {sorted(PLACEHOLDERS)}"
                )
        return v


class CalendarModel(_Strict):
    time_zone: str = "Asia/Shanghai"
    # Weekday -> working spans "HH:MM-HH:MM"; a lunch break is the gap between two spans.
    hours: dict[str, list[str]]
    holidays: list[date] = []

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, spans in v.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {WEEKDAYS}")
            previous = time(0)
            for span in spans:
                start, end = _span(span)
                if not previous <= start < end:
                    raise ValueError(f"{day}: spans must be in order and not overlap ({span!r})")
                previous = end
        if not any(v.values()):
            raise ValueError("a calendar needs some working hours")
        return v

    def to_domain(self, name: str) -> BusinessCalendar:
        week = {
            WEEKDAYS.index(day): tuple(_span(s) for s in spans) for day, spans in self.hours.items()
        }
        return BusinessCalendar(name, self.time_zone, week, frozenset(self.holidays))


class DepartmentModel(_Strict):
    calendar: str
    supervisor: str = Field(min_length=1, max_length=64)
    manager: str = Field(min_length=1, max_length=64)


class EscalationModel(_Strict):
    warning_lead_minutes: Minutes = 30
    supervisor_after_minutes: Minutes = 60
    manager_after_minutes: Minutes = 240

    @model_validator(mode="after")
    def _ladder(self) -> EscalationModel:
        if self.manager_after_minutes <= self.supervisor_after_minutes:
            raise ValueError("manager_after_minutes must be greater than supervisor_after_minutes")
        return self


class CatalogueModel(_Strict):
    calendars: dict[str, CalendarModel]
    departments: dict[str, DepartmentModel]
    issue_codes: dict[Annotated[str, Field(pattern=CODE_PATTERN)], IssueCodeModel]
    escalation: EscalationModel = EscalationModel()
    fallback_code: str

    @model_validator(mode="after")
    def _references(self) -> CatalogueModel:
        for name, dept in self.departments.items():
            if dept.calendar not in self.calendars:
                raise ValueError(f"department {name!r}: unknown calendar {dept.calendar!r}")
        for code, entry in self.issue_codes.items():
            if entry.department not in self.departments:
                raise ValueError(f"issue code {code!r}: unknown department {entry.department!r}")
        if self.fallback_code not in self.issue_codes:
            raise ValueError(f"fallback_code {self.fallback_code!r} is not an issue code")
        return self

    def to_domain(self) -> Catalogue:
        e = self.escalation
        return Catalogue(
            codes={
                code: IssueCode(
                    code=code,
                    title=m.title,
                    department=m.department,
                    default_priority=m.default_priority,
                    targets={p: t.to_domain() for p, t in m.deadlines.items()},
                    compensation_standard=m.compensation_standard,
                    reply_templates=dict(m.reply_templates),
                    complaint=m.complaint,
                )
                for code, m in sorted(self.issue_codes.items())
            },
            departments={
                name: Department(name, d.calendar, d.supervisor, d.manager)
                for name, d in self.departments.items()
            },
            calendars={name: c.to_domain(name) for name, c in self.calendars.items()},
            escalation=EscalationPolicy(
                timedelta(minutes=e.warning_lead_minutes),
                timedelta(minutes=e.supervisor_after_minutes),
                timedelta(minutes=e.manager_after_minutes),
            ),
            fallback_code=self.fallback_code,
        )


def _span(text: str) -> tuple[time, time]:
    match = re.fullmatch(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})", text)
    if not match:
        raise ValueError(f"working span {text!r} is not 'HH:MM-HH:MM'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"working span {text!r} is not a time of day")
    end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
    return time(h1, m1), end


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the catalogue; raise CatalogueError naming the bad entry."""
    source = path or DEFAULT_FILE
    try:
        if source.stat().st_size > MAX_FILE_BYTES:
            raise CatalogueError(f"{source}: larger than {MAX_FILE_BYTES} bytes")
        raw = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"{source}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"{source}: not JSON: {exc}") from None
    try:
        return CatalogueModel.model_validate(raw).to_domain()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()[:10]
        )
        raise CatalogueError(f"{source}: invalid catalogue: {problems}") from None
