"""Refunds a marketplace made itself, pushed through the gateway: recorded exactly once.

The platform pays the buyer; we complete our open refund of that amount on the order
(the move to REFUNDED and the TCC Confirm in one local transaction) or request one
through the same freeze, so the sum of refunds stays at most what was paid. Each
platform refund id is recorded once; orders our payment API pays are refused, so a
refund can never be paid on both paths.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from omslib.errors import FailedPrecondition
from omslib.tcc import TransactionState

from oms_aftersales.adapters.refund_repository import RefundRepository
from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.domain.errors import OrderNotKnownYet
from oms_aftersales.domain.refund import (
    PAYOUT_PLATFORM,
    TERMINAL,
    WAITING,
    Refund,
    RefundState,
    payout_path,
)
from oms_aftersales.service_layer import refund_log
from oms_aftersales.service_layer.refunds import RefundRequest, RefundService

S = RefundState


@dataclass(frozen=True)
class PlatformOrder:
    """An order as the platform names it (what a platform's refund push carries)."""

    platform: str
    platform_order_id: str


class PlatformRefunds:
    def __init__(
        self, uow_factory: Callable[[], AftersalesUnitOfWork], refunds: RefundService
    ) -> None:
        self._uow = uow_factory
        self._refunds = refunds

    async def record(
        self,
        order: str | PlatformOrder,
        platform_refund_id: str,
        amount: int,
        currency: str,
        *,
        ticket_id: str = "",
    ) -> tuple[Refund, bool]:
        """A marketplace refunded the buyer: complete our open refund of that amount on the
        order, or request one (the freeze still guards the total; it belongs to
        ``ticket_id`` when given). Idempotent by the platform's refund id. ``order`` is our
        order id or the platform's name for it."""
        async with self._uow() as uow:
            repo = RefundRepository(uow.session)
            seen = await repo.platform_refund(platform_refund_id)
            if seen is not None:
                return await self._refunds.require(repo, seen), True
            order_id = await self._order_id(uow, order)
            refund = await repo.open_for_platform_refund(order_id, amount)
        facts = await self._refunds.orders.order(order_id)
        if payout_path(facts.platform) != PAYOUT_PLATFORM:
            # Our own payment API pays these orders: recording a platform refund as well
            # could pay the buyer twice.
            raise FailedPrecondition(
                f"order {order_id} ({facts.platform}) is not refunded by a marketplace",
                reason="NOT_A_MARKETPLACE_ORDER",
                metadata={"order_id": order_id, "platform": facts.platform},
            )
        if refund is None:
            refund, _ = await self._refunds.request(
                RefundRequest(
                    request_id=f"platform:{platform_refund_id}"[:128],
                    order_id=order_id,
                    currency=currency,
                    amount=amount,
                    reason="refunded by the platform",
                    actor="platform",
                    ticket_id=ticket_id,
                )
            )
        await self._refunds.require_frozen(refund)
        async with self._uow() as uow:
            repo = RefundRepository(uow.session)
            refund = await self._refunds.require(repo, refund.refund_id)
            if refund.state in TERMINAL or refund.currency != currency:
                raise FailedPrecondition(
                    f"refund {refund.refund_id} is {refund.state}; the platform refund "
                    f"{platform_refund_id} matches no open refund",
                    reason="PLATFORM_REFUND_UNMATCHED",
                    metadata={"refund_id": refund.refund_id, "state": refund.state.value},
                )
            if not await repo.record_platform_refund(
                platform_refund_id, refund.refund_id, amount, self._refunds.clock.now()
            ):
                await uow.session.rollback()
                return await self._refunds.get(refund.refund_id), True
            now = self._refunds.clock.now()
            note = f"refunded by the platform ({platform_refund_id})"
            moves = []
            if refund.state in WAITING and refund.state is not S.APPROVED:
                moves.append(refund.move_to(S.APPROVED, now, "platform", note))
            if refund.state is S.APPROVED:
                moves.append(refund.move_to(S.REFUNDING, now, "platform", note))
            refund.payout_reference = platform_refund_id[:128]
            refund.payout_due_at = None
            moves.append(refund.move_to(S.REFUNDED, now, "platform", note))
            await refund_log.record(uow.session, refund, moves, now)
            tx, started = await self._refunds.coordinator.decide(
                uow.session, refund.gid, TransactionState.CONFIRMING, reason=note
            )
            await uow.commit()
        if started:
            with contextlib.suppress(Exception):  # the recovery loop finishes it
                await self._refunds.coordinator.drive(tx)
        return await self._refunds.get(refund.refund_id), False

    @staticmethod
    async def _order_id(uow: AftersalesUnitOfWork, order: str | PlatformOrder) -> str:
        if isinstance(order, str):
            return order
        known = await uow.customers.order_by_ref(order.platform, order.platform_order_id)
        if known is None:
            # The refund push can overtake the order's own events: retried, never dropped.
            raise OrderNotKnownYet(
                f"the {order.platform} order named by the platform refund is not known here "
                "yet; retry once the order's events have arrived",
                metadata={
                    "platform": order.platform,
                    "platform_order_id": order.platform_order_id[:128],
                },
            )
        return known.order_id
