"""Operator alerts raised by the gateway (e.g. a platform's feed went silent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PLATFORM_FEED_SILENT = "PLATFORM_FEED_SILENT"


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
    details: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """What the alert webhook receives (and what a relay would publish)."""
        return {
            "alert_id": self.id,
            "code": self.code,
            "subject": self.subject,
            "message": self.message,
            "raised_at": self.raised_at.isoformat(),
            **self.details,
        }
