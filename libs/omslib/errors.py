"""Domain errors that services raise and the gRPC layer maps to canonical codes.

Pure Python on purpose: domain code must not depend on grpc.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class ErrorKind(enum.Enum):
    """Transport-neutral error category; one per gRPC canonical code we use."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    ABORTED = "ABORTED"
    UNAVAILABLE = "UNAVAILABLE"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    INTERNAL = "INTERNAL"


class DomainError(Exception):
    """A business error with a kind (the canonical code) and an UPPER_SNAKE reason.

    Subclass and override ``reason`` (and ``kind`` if needed) for specific errors::

        class InsufficientStock(FailedPrecondition):
            reason = "INSUFFICIENT_STOCK"
    """

    kind: ErrorKind = ErrorKind.FAILED_PRECONDITION
    reason: str = "FAILED_PRECONDITION"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = {str(k): str(v) for k, v in (metadata or {}).items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, reason={self.reason!r})"


class InvalidArgument(DomainError):
    kind = ErrorKind.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND
    reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    kind = ErrorKind.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    kind = ErrorKind.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"


class Unavailable(DomainError):
    kind = ErrorKind.UNAVAILABLE
    reason = "UNAVAILABLE"


class Aborted(DomainError):
    kind = ErrorKind.ABORTED
    reason = "ABORTED"


class ResourceExhausted(DomainError):
    kind = ErrorKind.RESOURCE_EXHAUSTED
    reason = "RESOURCE_EXHAUSTED"
