import grpc
import pytest
from omslib.errors import DomainError, ErrorKind, FailedPrecondition, InvalidArgument, NotFound
from omslib.grpc_errors import KIND_TO_CODE, TRANSIENT_CODES, RemoteError, to_rpc_status


class InsufficientStock(FailedPrecondition):
    reason = "INSUFFICIENT_STOCK"


def test_subclass_reason_and_kind_are_inherited_and_overridable() -> None:
    err = InsufficientStock("sku A short by 2", metadata={"sku": "A", "short": 2})  # type: ignore[dict-item]
    assert err.kind is ErrorKind.FAILED_PRECONDITION
    assert err.reason == "INSUFFICIENT_STOCK"
    assert err.metadata == {"sku": "A", "short": "2"}
    assert NotFound("x", reason="ORDER_NOT_FOUND").reason == "ORDER_NOT_FOUND"
    assert DomainError("x").kind is ErrorKind.FAILED_PRECONDITION


def test_every_kind_has_a_grpc_code() -> None:
    assert set(KIND_TO_CODE) == set(ErrorKind)
    assert KIND_TO_CODE[InvalidArgument.kind] is grpc.StatusCode.INVALID_ARGUMENT


def test_rpc_status_carries_error_info_in_trailers() -> None:
    status = to_rpc_status(InsufficientStock("short", metadata={"sku": "A"}), "inventory.oms")
    assert status.code is grpc.StatusCode.FAILED_PRECONDITION
    assert status.details == "short"
    keys = [key for key, _ in status.trailing_metadata]
    assert keys == ["grpc-status-details-bin"]


@pytest.mark.parametrize("code", sorted(TRANSIENT_CODES, key=lambda c: c.name))
def test_transient_codes_are_flagged(code: grpc.StatusCode) -> None:
    assert RemoteError(code, "x").transient
    assert not RemoteError(grpc.StatusCode.FAILED_PRECONDITION, "x").transient
