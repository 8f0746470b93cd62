"""The inventory service's domain errors (reason codes are part of the API)."""

from __future__ import annotations

from omslib.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound


class InvalidRequest(InvalidArgument):
    reason = "INVALID_ARGUMENT"


class InvalidPageToken(InvalidArgument):
    reason = "INVALID_PAGE_TOKEN"


class RequestIdReused(InvalidArgument):
    reason = "REQUEST_ID_REUSED"


class UnknownSku(NotFound):
    """No warehouse has ever stocked the SKU (NOT_FOUND on reads)."""

    reason = "UNKNOWN_SKU"


class UnknownSkuInOrder(FailedPrecondition):
    """An order line names a SKU no warehouse stocks: the reservation is refused."""

    reason = "UNKNOWN_SKU"


class WarehouseNotFound(NotFound):
    reason = "WAREHOUSE_NOT_FOUND"


class InsufficientStock(FailedPrecondition):
    reason = "INSUFFICIENT_STOCK"


class BelowReserved(FailedPrecondition):
    reason = "BELOW_RESERVED"


class ReservationNotFound(FailedPrecondition):
    reason = "RESERVATION_NOT_FOUND"


class ReservationMissing(NotFound):
    """GetReservation of a branch that has none."""

    reason = "RESERVATION_NOT_FOUND"


class ReservationNotConfirmed(FailedPrecondition):
    """A restock of a reservation whose stock was never deducted (metadata: its state)."""

    reason = "RESERVATION_NOT_CONFIRMED"


class ReservationReleased(FailedPrecondition):
    reason = "RESERVATION_RELEASED"


class ReservationConfirmed(FailedPrecondition):
    reason = "RESERVATION_CONFIRMED"


class TryAfterCancel(FailedPrecondition):
    reason = "TRY_AFTER_CANCEL"


class StockContention(Aborted):
    """Conditional updates kept losing races; the caller may retry."""

    reason = "STOCK_CONTENTION"


def insufficient(sku: str, requested: int, available: int) -> InsufficientStock:
    return InsufficientStock(
        f"not enough stock of {sku}: requested {requested}, available {available}",
        metadata={"sku": sku, "requested": str(requested), "available": str(available)},
    )


class ReservationReturned(FailedPrecondition):
    """A restock of a reservation whose units are expected back or came back as a return:
    restocking them as never shipped would count them twice."""

    reason = "RESERVATION_RETURNED"


class ReturnExceedsDeducted(FailedPrecondition):
    """A return expects more of a SKU than the order deducted minus earlier returns
    (metadata: sku, requested, returnable)."""

    reason = "RETURN_EXCEEDS_DEDUCTED"


class ExpectedReturnNotFound(FailedPrecondition):
    """Confirm of a branch with no expected return (never tried, or cancelled first)."""

    reason = "EXPECTED_RETURN_NOT_FOUND"


class ExpectedReturnMissing(NotFound):
    """A read or a receipt naming an expected return that does not exist."""

    reason = "EXPECTED_RETURN_NOT_FOUND"


class ReturnCancelled(FailedPrecondition):
    reason = "RETURN_CANCELLED"


class ReturnConfirmed(FailedPrecondition):
    reason = "RETURN_CONFIRMED"


class ReturnClosed(FailedPrecondition):
    """A receipt for a return already confirmed or cancelled (metadata: its state)."""

    reason = "RETURN_CLOSED"


class ReturnAmbiguous(FailedPrecondition):
    """A receipt by order for an order with several open returns: name one by tcc."""

    reason = "RETURN_AMBIGUOUS"


class TooManyReceipts(FailedPrecondition):
    reason = "TOO_MANY_RECEIPTS"
