"""Bridge between :mod:`omslib.errors` and gRPC rich errors (google.rpc.ErrorInfo)."""

from __future__ import annotations

from collections.abc import Mapping

import grpc
import grpc.aio
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from omslib.errors import DomainError, ErrorKind

KIND_TO_CODE: Mapping[ErrorKind, grpc.StatusCode] = {
    ErrorKind.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorKind.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorKind.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    ErrorKind.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorKind.ABORTED: grpc.StatusCode.ABORTED,
    ErrorKind.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorKind.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorKind.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorKind.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    ErrorKind.DEADLINE_EXCEEDED: grpc.StatusCode.DEADLINE_EXCEEDED,
    ErrorKind.INTERNAL: grpc.StatusCode.INTERNAL,
}

# Codes after which the outcome is unknown or the callee is temporarily unable to
# answer, so retrying (with backoff) is reasonable. RESOURCE_EXHAUSTED is included
# because our servers use it for rate limits/overload, which clear with time.
# ABORTED (concurrency conflict) is left out: the caller should re-read and decide,
# which for TCC branches is the coordinator's job, not a blind transport retry.
TRANSIENT_CODES: frozenset[grpc.StatusCode] = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)

_STATUS_DETAILS_KEY = "grpc-status-details-bin"


def to_rpc_status(err: DomainError, domain: str) -> grpc.Status:
    """Build a ``grpc.Status`` for ``context.abort_with_status`` carrying an ErrorInfo."""
    code = KIND_TO_CODE[err.kind]
    info = error_details_pb2.ErrorInfo(reason=err.reason, domain=domain, metadata=err.metadata)
    status = status_pb2.Status(code=_code_number(code), message=err.message)
    status.details.add().Pack(info)
    return rpc_status.to_status(status)


def _code_number(code: grpc.StatusCode) -> int:
    number: int = code.value[0]
    # Keep the google.rpc.Code enum and grpc.StatusCode in lockstep.
    assert code_pb2.Code.Name(number) == code.name
    return number


class RemoteError(Exception):
    """A failed call to another service, with the ErrorInfo parsed when present."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str | None = None,
        domain: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code.name}: {message}" + (f" [{reason}]" if reason else ""))
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata: dict[str, str] = dict(metadata or {})

    @property
    def transient(self) -> bool:
        """True when retrying the call later may succeed."""
        return self.code in TRANSIENT_CODES


def remote_error(err: grpc.aio.AioRpcError) -> RemoteError:
    """Convert a client-side ``AioRpcError`` into a :class:`RemoteError`."""
    code = err.code()
    message = err.details() or ""
    info = _error_info(err.trailing_metadata())
    if info is None:
        return RemoteError(code, message)
    return RemoteError(
        code, message, reason=info.reason, domain=info.domain, metadata=dict(info.metadata)
    )


def _error_info(trailing: object) -> error_details_pb2.ErrorInfo | None:
    for key, value in trailing or ():  # type: ignore[attr-defined]
        if key != _STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                return info
    return None
