"""Commands the service layer takes (already translated from the API, not yet validated)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oms_aftersales.domain.customers import CustomerIdentity
from oms_aftersales.domain.issue_codes import Priority
from oms_aftersales.domain.ticket import Channel

MAX_TEXT = 4000
MAX_REQUEST_ID = 128
MAX_SHORT = 64


@dataclass(frozen=True)
class CustomerMessage:
    request_id: str
    channel: Channel
    merchant_id: str
    customer: CustomerIdentity
    text: str
    at: datetime | None = None
    order_id: str = ""
    platform: str = ""
    platform_order_id: str = ""
    case_id: str = ""
    case_kind: str = ""
    # For a new ticket only: an agent's or the system's choice instead of classification.
    issue_code: str = ""
    priority: Priority | None = None
    operator: str = ""
    # True for CreateTicket: always a new ticket, never a thread entry.
    new_ticket: bool = False
    # For phone calls: how long the call lasted (recorded in the audit note).
    call_seconds: int | None = None
