"""What callers ask of an order: one command per mutating RPC.

``request_id`` (optional) makes a command idempotent: a repeat answers the
order as it stands; the same id with another command is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oms_orders.domain.values import Money


@dataclass(frozen=True)
class RecordPayment:
    order_id: str
    amount: Money
    reference: str
    pay_time: datetime | None = None
    actor: str = "api"
    request_id: str = ""


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    reason: str
    code: str = "CANCELLED_BY_REQUEST"
    actor: str = "api"
    request_id: str = ""


@dataclass(frozen=True)
class RejectOrder:
    order_id: str
    reason: str
    operator: str
    request_id: str = ""


@dataclass(frozen=True)
class ApproveOrder:
    order_id: str
    note: str
    operator: str
    request_id: str = ""


@dataclass(frozen=True)
class RecordShipment:
    order_id: str
    carrier: str
    tracking_number: str
    ship_time: datetime | None = None
    actor: str = "api"
    request_id: str = ""


Command = RecordPayment | CancelOrder | RejectOrder | ApproveOrder | RecordShipment
