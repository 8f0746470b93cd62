"""Which answers of OrdersService are worth delivering the same push again.

The one list the delivery worker goes by. A push is given up on (DEAD) only when it
is itself invalid or contradicts what orders knows for good; anything caused by a
process being down, by a concurrent delivery of the same order or by a transaction
still in flight is our own transient state, and resending the push as is (orders
deduplicates by request_id) is safe.

- ``OUTAGE_CODES``: orders, or a service it calls, cannot answer at all. Retried
  without limit, at most ``RetryPolicy.outage_cap_seconds`` apart.
- ``RETRYABLE_CODES``, and ``TRANSIENT_REASONS`` whatever their code: orders
  answered, but "not now" (a conflict, overload, a crash mid-call, a transaction
  moving, an order dropped by a concurrent delivery). Retried with the full backoff,
  up to ``RetryPolicy.max_attempts``.
- Everything else (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION
  with any other reason, PERMISSION_DENIED, UNIMPLEMENTED...) is permanent.
"""

from __future__ import annotations

import grpc

OUTAGE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})

RETRYABLE_CODES = frozenset(
    {
        grpc.StatusCode.ABORTED,  # a concurrent update of the same order
        grpc.StatusCode.RESOURCE_EXHAUSTED,  # overload or rate limit: clears with time
        grpc.StatusCode.CANCELLED,  # the call was cut (e.g. the server shut down)
        # A crash or a bug mid-call: the outcome is unknown, and resending is idempotent.
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    }
)

# ErrorInfo reasons (mostly FAILED_PRECONDITION) that describe a state of ours that
# passes, not the push.
TRANSIENT_REASONS = frozenset(
    {
        "TRANSACTION_CHANGED_CONCURRENTLY",  # TCC: another coordinator moved it meanwhile
        "INVALID_TRANSACTION_TRANSITION",  # TCC: a phase already in progress elsewhere
        "CONCURRENT_MODIFICATION",
        "TRY_ABANDONED",  # the Try's outcome was lost: the push places the order afresh
        "INVENTORY_UNAVAILABLE",
        # A sync creates the order it names, so a missing order is one that a
        # concurrent delivery dropped a moment ago, never a fault of the push.
        "ORDER_NOT_FOUND",
    }
)


def is_outage(code: grpc.StatusCode) -> bool:
    return code in OUTAGE_CODES


def is_retryable(code: grpc.StatusCode, reason: str | None) -> bool:
    """True if delivering the same push again may succeed (outages included)."""
    if code in OUTAGE_CODES or code in RETRYABLE_CODES:
        return True
    return reason in TRANSIENT_REASONS
