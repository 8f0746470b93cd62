"""Errors of the aftersales domain that are not a ticket's own."""

from __future__ import annotations

from omslib.errors import InvalidArgument, NotFound


class TicketNotFound(NotFound):
    reason = "TICKET_NOT_FOUND"


class CustomerNotFound(NotFound):
    reason = "CUSTOMER_NOT_FOUND"


class InvalidPageToken(InvalidArgument):
    reason = "INVALID_PAGE_TOKEN"


class InvalidRequest(InvalidArgument):
    reason = "INVALID_REQUEST"
