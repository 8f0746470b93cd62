"""InventoryService for the refund: the expected return as a TCC branch, and receipts.

Try records the goods expected back (refusals: RESERVATION_NOT_FOUND,
RESERVATION_NOT_CONFIRMED, RETURN_EXCEEDS_DEDUCTED, TRY_AFTER_CANCEL); Confirm restocks
what was received by disposition; Cancel releases the expectation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import grpc
import grpc.aio
from oms.inventory.v1 import inventory_pb2
from oms.inventory.v1 import inventory_service_pb2 as pb
from oms.inventory.v1 import inventory_service_pb2_grpc as pb_grpc
from oms.tcc.v1 import tcc_pb2
from omslib.errors import DomainError, ErrorKind, Unavailable
from omslib.grpc_errors import remote_error
from omslib.tcc import PhaseRefused, TryRefused

from oms_aftersales.adapters.orders_client import REFUSAL_CODES
from oms_aftersales.domain.refund import ReturnLine


@dataclass(frozen=True)
class ExpectPayload:
    order_id: str
    reservation_gid: str
    lines: Sequence[ReturnLine]


@dataclass(frozen=True)
class Receipt:
    """What the warehouse found: (sku, quantity, damaged)."""

    warehouse_code: str
    lines: Sequence[tuple[str, int, bool]]
    request_id: str
    actor: str


@dataclass(frozen=True)
class ReceiptResult:
    matches: bool
    differences: list[str]


class ReceiptRefused(DomainError):
    """Inventory refused the receipt (closed return, unknown warehouse, reused request id)."""


class InventoryReturns:
    PERMANENT = frozenset({"EXPECTED_RETURN_NOT_FOUND", "RETURN_CANCELLED", "RETURN_CONFIRMED"})

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = pb_grpc.InventoryServiceStub(channel)
        self._timeout = timeout

    # -- the TCC branch (omslib.tcc.Participant)
    async def try_(self, gid: str, branch_id: str, payload: ExpectPayload) -> None:
        request = pb.TryExpectReturnRequest(
            tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id),
            order_id=payload.order_id,
            reservation_gid=payload.reservation_gid,
            lines=[pb.ExpectReturnLine(sku=x.sku, quantity=x.quantity) for x in payload.lines],
        )
        try:
            await self._stub.TryExpectReturn(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as err:
            remote = remote_error(err)
            if remote.code in REFUSAL_CODES:
                raise TryRefused(
                    remote.reason or remote.code.name, remote.message, remote.metadata
                ) from err
            raise

    async def confirm(self, gid: str, branch_id: str) -> None:
        request = pb.ConfirmExpectReturnRequest(
            tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id)
        )
        await self._phase(self._stub.ConfirmExpectReturn, request)

    async def cancel(self, gid: str, branch_id: str) -> None:
        request = pb.CancelExpectReturnRequest(tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id))
        await self._phase(self._stub.CancelExpectReturn, request)

    async def _phase(self, method: object, request: object) -> None:
        try:
            await method(request, timeout=self._timeout)  # type: ignore[operator]
        except grpc.aio.AioRpcError as err:
            remote = remote_error(err)
            if remote.reason in self.PERMANENT:
                raise PhaseRefused(remote.reason or "", remote.message) from err
            raise

    # -- the warehouse's scan, passed through for the refund's branch
    async def receive(self, gid: str, branch_id: str, receipt: Receipt) -> ReceiptResult:
        request = pb.ReceiveReturnRequest(
            tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id),
            warehouse_code=receipt.warehouse_code,
            lines=[
                inventory_pb2.ReturnReceiptLine(
                    sku=sku,
                    quantity=quantity,
                    condition=inventory_pb2.RETURN_CONDITION_DAMAGED
                    if damaged
                    else inventory_pb2.RETURN_CONDITION_RESELLABLE,
                )
                for sku, quantity, damaged in receipt.lines
            ],
            request_id=receipt.request_id,
            actor=receipt.actor,
        )
        try:
            reply = await self._stub.ReceiveReturn(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as err:
            remote = remote_error(err)
            if remote.code in REFUSAL_CODES:
                kind = {
                    grpc.StatusCode.NOT_FOUND: ErrorKind.NOT_FOUND,
                    grpc.StatusCode.INVALID_ARGUMENT: ErrorKind.INVALID_ARGUMENT,
                }.get(remote.code, ErrorKind.FAILED_PRECONDITION)
                refused = ReceiptRefused(
                    remote.message,
                    reason=remote.reason or remote.code.name,
                    metadata=remote.metadata,
                )
                refused.kind = kind
                raise refused from err
            raise Unavailable(f"inventory ReceiveReturn failed: {remote.code.name}") from err
        expected = reply.expected_return
        differences = [
            f"{inventory_pb2.ReturnDifferenceKind.Name(d.kind).removeprefix('RETURN_DIFFERENCE_KIND_')}"
            f" {d.sku} {d.quantity}"
            for d in expected.differences
        ]
        return ReceiptResult(bool(expected.matches), differences)
