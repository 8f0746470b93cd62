"""Errors of the aftersales domain that are not a ticket's own."""

from __future__ import annotations

from omslib.errors import InvalidArgument, NotFound, Unavailable


class TicketNotFound(NotFound):
    reason = "TICKET_NOT_FOUND"


class CustomerNotFound(NotFound):
    reason = "CUSTOMER_NOT_FOUND"


class InvalidPageToken(InvalidArgument):
    reason = "INVALID_PAGE_TOKEN"


class InvalidRequest(InvalidArgument):
    reason = "INVALID_REQUEST"


class OrderNotKnownYet(Unavailable):
    """A message names its customer only through an order the order events have not
    brought yet: retried, never dropped (the platform's after-sales pushes name no buyer)."""

    reason = "ORDER_NOT_KNOWN_YET"
