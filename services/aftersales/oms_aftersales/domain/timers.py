"""Which timers a ticket needs now: a warning before each pending deadline, and the
escalation ladder (agent at the breach, then supervisor, then manager).

Timers are keyed so that each fires at most once: a warning per deadline
instance (the key holds its due time, so a moved deadline gets a new warning),
an escalation level per ticket for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oms_aftersales.domain.issue_codes import EscalationPolicy
from oms_aftersales.domain.sla import Deadlines
from oms_aftersales.domain.ticket import Escalation

WARNING = "warning"
ESCALATION = "escalation"


@dataclass(frozen=True)
class PlannedTimer:
    key: str
    kind: str
    due_at: datetime
    # The deadline it is about ("first_response"...) for warnings, the nearest for escalations.
    deadline: str
    deadline_due_at: datetime
    level: Escalation = Escalation.NONE


def plan_timers(
    deadlines: Deadlines, escalation: Escalation, policy: EscalationPolicy
) -> list[PlannedTimer]:
    """Every timer the ticket should have pending now (none while paused or resolved)."""
    timers: list[PlannedTimer] = []
    pending = deadlines.pending()
    for kind, due in sorted(pending.items(), key=lambda kv: kv[1]):
        timers.append(
            PlannedTimer(
                key=f"{WARNING}:{kind}:{due.isoformat()}",
                kind=WARNING,
                due_at=due - policy.warning_lead,
                deadline=kind,
                deadline_due_at=due,
            )
        )
    if pending:
        kind, nearest = min(pending.items(), key=lambda kv: kv[1])
        ladder = {
            Escalation.AGENT: nearest,
            Escalation.SUPERVISOR: nearest + policy.supervisor_after,
            Escalation.MANAGER: nearest + policy.manager_after,
        }
        for level, due in ladder.items():
            if level > escalation:
                timers.append(
                    PlannedTimer(
                        key=f"{ESCALATION}:{level.name.lower()}",
                        kind=ESCALATION,
                        due_at=due,
                        deadline=kind,
                        deadline_due_at=nearest,
                        level=level,
                    )
                )
    return timers
