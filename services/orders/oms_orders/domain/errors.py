"""The orders service's domain errors (reason codes are part of the API)."""

from __future__ import annotations

from omslib.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)


class InvalidTransition(FailedPrecondition):
    reason = "INVALID_TRANSITION"


class InvalidSnapshot(InvalidArgument):
    reason = "INVALID_SNAPSHOT"


class InvalidRequest(InvalidArgument):
    reason = "INVALID_ARGUMENT"


class InvalidName(InvalidArgument):
    reason = "INVALID_NAME"


class InvalidPageToken(InvalidArgument):
    reason = "INVALID_PAGE_TOKEN"


class OrderNotFound(NotFound):
    reason = "ORDER_NOT_FOUND"


class TransactionNotFound(NotFound):
    reason = "TRANSACTION_NOT_FOUND"


class InventoryUnavailable(Unavailable):
    """Inventory did not answer, so whether stock was reserved is unknown."""

    reason = "INVENTORY_UNAVAILABLE"


class ReservationRefused(FailedPrecondition):
    """Inventory refused to reserve for a business reason (e.g. INSUFFICIENT_STOCK).

    ``reason`` is the participant's own reason code, kept as the order's reason code.
    """


class DuplicatePlatformOrder(AlreadyExists):
    """Another request stored the same (platform, platform_order_id) first."""

    reason = "ORDER_ALREADY_EXISTS"


class ConcurrentModification(Aborted):
    """The order changed between load and save; reload and retry."""

    reason = "CONCURRENT_MODIFICATION"


class PaymentAfterCancellation(FailedPrecondition):
    """A payment arrived for an order already cancelled or rejected: needs a refund."""

    reason = "PAYMENT_AFTER_CANCELLATION"


class PaymentAfterStockRelease(FailedPrecondition):
    reason = "PAYMENT_AFTER_STOCK_RELEASE"


class PaymentAmountMismatch(FailedPrecondition):
    """The payment's amount or currency differs from the order's total."""

    reason = "PAYMENT_AMOUNT_MISMATCH"


class PaymentConflict(FailedPrecondition):
    """The order is paid already, with another payment reference."""

    reason = "PAYMENT_CONFLICT"


class ShippedOrderNotCancellable(FailedPrecondition):
    """A shipped order cannot be cancelled: the goods are with the buyer; it is a return."""

    reason = "ORDER_ALREADY_SHIPPED"


class RequestIdReused(InvalidArgument):
    """A request id came back with a different request: refused, like an idempotency key."""

    reason = "REQUEST_ID_REUSED"


class ReservationPending(Unavailable):
    """The order's stock reservation has not answered yet: retry shortly."""

    reason = "RESERVATION_PENDING"
