"""An alert as the ``oms.events.v1.Alert`` event published on ``oms.alerts``."""

from __future__ import annotations

from oms.events.v1 import alert_events_pb2
from oms.events.v1.envelope_pb2 import EventEnvelope
from omslib.outbox import build_envelope

from oms_gateway.domain.alerts import Alert, AlertSeverity

SOURCE = "gateway"
# A platform's alerts form one aggregate: ordered, and one sequence row per platform.
AGGREGATE_TYPE = "platform"

_SEVERITY = {
    AlertSeverity.WARNING: alert_events_pb2.ALERT_SEVERITY_WARNING,
    AlertSeverity.CRITICAL: alert_events_pb2.ALERT_SEVERITY_CRITICAL,
}


def alert_message(alert: Alert) -> alert_events_pb2.Alert:
    """The event payload; ``attributes`` are the alert's details as text, plus its id."""
    message = alert_events_pb2.Alert(
        code=alert.code,
        severity=_SEVERITY[alert.severity],
        message=alert.message,
        subject=alert.resource,
        attributes={
            "alert_id": alert.id,
            "episode": alert.episode,
            **{key: str(value) for key, value in alert.details.items()},
        },
    )
    message.raise_time.FromDatetime(alert.raised_at)
    return message


def alert_envelope(alert: Alert) -> EventEnvelope:
    """The envelope: its event id is the alert's id; it occurred when the alert was raised."""
    return build_envelope(
        alert_message(alert),
        event_id=alert.id,
        source=SOURCE,
        aggregate_type=AGGREGATE_TYPE,
        aggregate_id=alert.platform,
        occur_time=alert.raised_at,
    )
