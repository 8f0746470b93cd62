"""Gateway errors. Each has a canonical kind and an UPPER_SNAKE reason; the HTTP
layer maps them to status codes and the JSON error body."""

from __future__ import annotations

from omslib.errors import (
    DomainError,
    ErrorKind,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)


class Unauthenticated(DomainError):
    kind = ErrorKind.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


class MissingSignatureHeaders(Unauthenticated):
    reason = "MISSING_SIGNATURE_HEADERS"


class InvalidSignature(Unauthenticated):
    reason = "INVALID_SIGNATURE"


class StaleTimestamp(Unauthenticated):
    reason = "STALE_TIMESTAMP"


class InvalidPayload(InvalidArgument):
    """The signed body does not match the platform's documented schema."""

    reason = "INVALID_PAYLOAD"


class MalformedJson(InvalidPayload):
    reason = "MALFORMED_JSON"


class UnknownPlatform(NotFound):
    reason = "UNKNOWN_PLATFORM"


class PlatformNotConfigured(Unavailable):
    """The platform is known but its credentials are not set on this gateway."""

    reason = "PLATFORM_NOT_CONFIGURED"


class PayloadTooLarge(ResourceExhausted):
    reason = "PAYLOAD_TOO_LARGE"


class InboxUnavailable(Unavailable):
    """The inbox database could not store the push, so it must not be acknowledged."""

    reason = "INBOX_UNAVAILABLE"


class OrdersUnavailable(Unavailable):
    """Orders could not take the push now (overloaded, a conflict, a crash): retry later."""

    reason = "ORDERS_UNAVAILABLE"


class OrdersDown(OrdersUnavailable):
    """Orders, or a service it calls, cannot answer at all: retry soon, and never give up."""

    reason = "ORDERS_DOWN"


class OrdersUnreachable(OrdersDown):
    """No answer from orders itself (connection refused or reset): it is down or restarting."""

    reason = "ORDERS_UNREACHABLE"


class OrdersRejected(FailedPrecondition):
    """Orders refused the snapshot for good; retrying the same push cannot succeed."""

    reason = "ORDERS_REJECTED"


class RateLimited(ResourceExhausted):
    """The platform sends faster than its configured rate; it should retry after a pause."""

    reason = "RATE_LIMITED"


class AftersalesUnavailable(Unavailable):
    """Aftersales could not take a customer message now (unreachable, overloaded): retry."""

    reason = "AFTERSALES_UNAVAILABLE"


class AftersalesRejected(FailedPrecondition):
    """Aftersales refused the customer message for good; retrying it cannot succeed."""

    reason = "AFTERSALES_REJECTED"
