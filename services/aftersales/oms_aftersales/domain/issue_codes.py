"""The standard after-sales issue codes and their handling templates.

Every common problem gets one code so tickets from every channel land in the
same buckets, with one responsible department, one deadline and one
compensation standard (BRIEF section 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class IssueCode:
    """A standard problem and how it must be handled."""

    code: str
    title: str
    responsible_department: str
    response_deadline: timedelta
    resolution_deadline: timedelta
    compensation_standard: str


CATALOGUE: tuple[IssueCode, ...] = (
    IssueCode(
        "RTS-001",
        "Not shipped on time",
        "warehouse",
        timedelta(hours=2),
        timedelta(hours=24),
        "Ship within 24 h or offer a coupon worth 5% of the order (max 20 CNY).",
    ),
    IssueCode(
        "WRG-001",
        "Wrong item shipped",
        "warehouse",
        timedelta(hours=2),
        timedelta(hours=48),
        "Free exchange with prepaid return label; reship before the return arrives.",
    ),
    IssueCode(
        "DMG-001",
        "Item arrived damaged",
        "customer_service",
        timedelta(hours=1),
        timedelta(hours=24),
        "Full refund or replacement at the buyer's choice; no return needed under 50 CNY.",
    ),
    IssueCode(
        "RET-001",
        "Return or refund request",
        "customer_service",
        timedelta(hours=4),
        timedelta(hours=72),
        "Refund to the original payment path within 24 h of the return being received.",
    ),
    IssueCode(
        "LOG-001",
        "Parcel delayed or lost in transit",
        "logistics",
        timedelta(hours=2),
        timedelta(hours=72),
        "Chase the carrier; reship or refund if not delivered within 72 h.",
    ),
)
