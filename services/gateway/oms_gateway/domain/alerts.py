"""Operator alerts raised by the gateway: a platform's feed went silent, a push was
dead-lettered."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PLATFORM_FEED_SILENT = "PLATFORM_FEED_SILENT"
WEBHOOK_DEAD_LETTERED = "WEBHOOK_DEAD_LETTERED"


class AlertSeverity(enum.Enum):
    WARNING = "WARNING"  # worth a look
    CRITICAL = "CRITICAL"  # needs someone now


@dataclass(frozen=True)
class Alert:
    """One alert. ``(code, subject, episode)`` identifies it, so the same condition seen by
    several replicas, or at several checks, is raised once."""

    id: str
    code: str
    subject: str
    episode: str
    message: str
    raised_at: datetime
    # The platform concerned: a platform's alert events are published in order.
    platform: str
    # Resource name of what the alert is about, e.g. "platforms/shop" or "inbox/01H...".
    resource: str
    severity: AlertSeverity = AlertSeverity.WARNING
    details: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """What the alert webhook receives."""
        return {
            "alert_id": self.id,
            "code": self.code,
            "subject": self.subject,
            "message": self.message,
            "raised_at": self.raised_at.isoformat(),
            **self.details,
        }


def dead_lettered(
    alert_id: str,
    *,
    entry_id: str,
    platform: str,
    event_id: str,
    attempts: int,
    error: str,
    now: datetime,
) -> Alert:
    """The alert for an inbox entry given up on (state DEAD): an operator must replay it."""
    return Alert(
        id=alert_id,
        code=WEBHOOK_DEAD_LETTERED,
        subject=entry_id,
        # A replayed entry that dies again is a new episode.
        episode=now.isoformat(),
        message=(
            f"push {event_id} from {platform} (inbox entry {entry_id}) was dead-lettered "
            f"after {attempts} attempt(s): {error}; fix the cause, then replay it "
            f"(oms inbox replay {entry_id})"
        ),
        raised_at=now,
        platform=platform,
        resource=f"inbox/{entry_id}",
        severity=AlertSeverity.WARNING,
        details={
            "platform": platform,
            "inbox_id": entry_id,
            "event_id": event_id,
            "attempts": attempts,
            "error": error,
        },
    )
