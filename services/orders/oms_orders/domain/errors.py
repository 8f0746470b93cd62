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


class StatusNotSupportedYet(FailedPrecondition):
    """Platform statuses whose handling arrives with the full TCC coordinator."""

    reason = "STATUS_NOT_SUPPORTED_YET"


class InventoryUnavailable(Unavailable):
    """Inventory did not answer, so whether stock was reserved is unknown."""

    reason = "INVENTORY_UNAVAILABLE"


class TryAbandoned(Unavailable):
    """The recovery loop gave up on a slow Try before it finished: nothing was kept.

    The push is retried with the same request id and places the order afresh.
    """

    reason = "TRY_ABANDONED"


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
