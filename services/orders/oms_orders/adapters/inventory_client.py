"""InventoryService as a TCC participant, over gRPC.

gRPC failures become domain outcomes: a business refusal (FAILED_PRECONDITION,
INVALID_ARGUMENT, NOT_FOUND: nothing was reserved) raises ReservationRefused;
anything else (unreachable, deadline, internal) leaves the outcome unknown and
raises InventoryUnavailable. A restock's refusal raises RestockRefused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import grpc
import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp
from oms.inventory.v1 import inventory_service_pb2 as pb
from oms.inventory.v1 import inventory_service_pb2_grpc as pb_grpc
from oms.tcc.v1 import tcc_pb2
from omslib.errors import FailedPrecondition
from omslib.grpc_errors import RemoteError, remote_error
from omslib.tcc import PhaseRefused, TryRefused

from oms_orders.domain.errors import InventoryUnavailable, ReservationRefused
from oms_orders.domain.tcc import INVENTORY_BRANCH
from oms_orders.domain.values import StockAllocation
from oms_orders.service_layer.ports import ReservePayload

REFUSAL_CODES = frozenset(
    {
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
    }
)


class RestockRefused(FailedPrecondition):
    """Inventory refused to put a reservation's units back, and retrying cannot change it:
    no reservation for the branch (RESERVATION_NOT_FOUND), one never deducted
    (RESERVATION_NOT_CONFIRMED, metadata ``state``) or an invalid request.

    ``reason`` is inventory's own reason code. (Defined here until orders' domain
    errors take it.)
    """


class InventoryClient:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = pb_grpc.InventoryServiceStub(channel)
        self._timeout = timeout

    async def try_reserve(
        self,
        *,
        gid: str,
        branch_id: str,
        order_id: str,
        lines: Sequence[tuple[str, int]],
        ship_to_province: str,
        expire_time: datetime,
    ) -> list[StockAllocation]:
        expire = Timestamp()
        expire.FromDatetime(expire_time)
        request = pb.TryReserveStockRequest(
            tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id),
            order_id=order_id,
            lines=[pb.ReserveLine(sku=sku, quantity=qty) for sku, qty in lines],
            ship_to_province=ship_to_province,
            expire_time=expire,
        )
        try:
            reply = await self._stub.TryReserveStock(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as err:
            remote = remote_error(err)
            if remote.code in REFUSAL_CODES:
                raise ReservationRefused(
                    remote.message,
                    reason=remote.reason or remote.code.name,
                    metadata=remote.metadata,
                ) from err
            raise _unavailable("TryReserveStock", remote) from err
        return [
            StockAllocation(item.sku, item.warehouse_code, int(item.quantity))
            for item in reply.reservation.items
        ]

    async def cancel_reserve(self, *, gid: str, branch_id: str) -> None:
        request = pb.CancelReserveStockRequest(tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id))
        try:
            await self._stub.CancelReserveStock(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as err:
            raise _unavailable("CancelReserveStock", remote_error(err)) from err

    async def confirm_reserve(self, *, gid: str, branch_id: str) -> None:
        request = pb.ConfirmReserveStockRequest(
            tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id)
        )
        await self._stub.ConfirmReserveStock(request, timeout=self._timeout)

    async def restock(self, *, gid: str, branch_id: str, reason: str) -> None:
        """Put the units of a confirmed reservation back on hand (a paid order ended
        unshipped). Idempotent: a repeat, also after an unknown outcome, is a success."""
        request = pb.RestockReservationRequest(
            tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id), reason=reason
        )
        try:
            await self._stub.RestockReservation(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as err:
            remote = remote_error(err)
            if remote.code in REFUSAL_CODES:
                raise RestockRefused(
                    remote.message,
                    reason=remote.reason or remote.code.name,
                    metadata=remote.metadata,
                ) from err
            raise _unavailable("RestockReservation", remote) from err

    async def cancel_reserve_raw(self, *, gid: str, branch_id: str) -> None:
        request = pb.CancelReserveStockRequest(tcc=tcc_pb2.TccContext(gid=gid, branch_id=branch_id))
        await self._stub.CancelReserveStock(request, timeout=self._timeout)


class InventoryTccParticipant:
    """Inventory for the generic coordinator (``omslib.tcc.Participant``).

    Confirm/Cancel answers that retrying cannot change (the reservation was
    released by the backstop, or was never made, or is already deducted) become
    ``PhaseRefused``: the transaction is parked and an operator alerted. Anything
    else is transient and retried with backoff.
    """

    PERMANENT = frozenset(
        {"RESERVATION_RELEASED", "RESERVATION_NOT_FOUND", "RESERVATION_CONFIRMED"}
    )

    def __init__(self, client: InventoryClient) -> None:
        self._client = client

    async def try_(self, gid: str, branch_id: str, payload: ReservePayload) -> object:
        """Reserve the order's lines: the allocations, or TryRefused for a business refusal
        (InventoryUnavailable, an unknown outcome, propagates)."""
        try:
            return await self._client.try_reserve(
                gid=gid,
                branch_id=branch_id,
                order_id=payload.order_id,
                lines=payload.lines,
                ship_to_province=payload.ship_to_province,
                expire_time=payload.expire_time,
            )
        except ReservationRefused as refusal:
            raise TryRefused(refusal.reason, refusal.message, refusal.metadata) from refusal

    async def confirm(self, gid: str, branch_id: str) -> None:
        await self._call(self._client.confirm_reserve, gid, branch_id)

    async def cancel(self, gid: str, branch_id: str) -> None:
        await self._call(self._client.cancel_reserve_raw, gid, branch_id)

    async def _call(self, method: Any, gid: str, branch_id: str) -> None:
        try:
            await method(gid=gid, branch_id=branch_id)
        except grpc.aio.AioRpcError as err:
            remote = remote_error(err)
            if remote.code == grpc.StatusCode.FAILED_PRECONDITION and remote.reason in (
                self.PERMANENT
            ):
                raise PhaseRefused(remote.reason, remote.message) from err
            raise _unavailable(method.__name__, remote) from err


def _unavailable(method: str, remote: RemoteError) -> InventoryUnavailable:
    return InventoryUnavailable(
        f"inventory {method} failed: {remote}", metadata={"code": remote.code.name}
    )


class InventoryRestockParticipant:
    """Inventory for ``order.restock``: a one-phase action, so only ``confirm`` is called.

    Its branch is named by the place transaction's gid: confirming it puts the units
    that transaction deducted back on hand. A reservation not confirmed yet (the
    payment's own Confirm still in flight) is retried; one that never will be is
    parked for a person.
    """

    #: Reservation states that never took units off hand: nothing to put back.
    NEVER_DEDUCTED = frozenset({"CANCELLED", "EXPIRED"})

    def __init__(self, client: InventoryClient) -> None:
        self._client = client

    async def try_(self, gid: str, branch_id: str, payload: object) -> object:
        raise NotImplementedError("a restock has no Try")

    async def confirm(self, gid: str, branch_id: str) -> None:
        try:
            await self._client.restock(
                gid=branch_id, branch_id=INVENTORY_BRANCH, reason="order ended after payment"
            )
        except RestockRefused as refusal:
            if refusal.reason == "RESERVATION_NOT_CONFIRMED":
                if refusal.metadata.get("state") in self.NEVER_DEDUCTED:
                    return  # released before it was deducted: the units are on hand already
                raise  # still RESERVED: the payment's Confirm is in flight; retried later
            raise PhaseRefused(refusal.reason, refusal.message) from refusal

    async def cancel(self, gid: str, branch_id: str) -> None:
        return None  # nothing was tried, so nothing to undo
