"""Refund use cases: request (the TCC Try), agent decisions, receipts, platform refunds.

The refund row and its TCC transaction are logged together before any participant is
called; the Try's outcome moves the refund in the coordinator's own local transaction
(``on_tried`` / ``on_refused``), so the refund and the log never disagree. Decisions
that end a refund log the TCC phase (``decide``) with the refund's move, commit, then
drive the round. Money goes out through ``Payouts``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from omslib.clock import Clock
from omslib.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from omslib.ids import new_id
from omslib.tcc import Coordinator, GlobalTransaction, TransactionState, TryOutcome, TryRefused
from sqlalchemy.ext.asyncio import AsyncSession

from oms_aftersales.adapters.inventory_client import ExpectPayload, InventoryReturns, Receipt
from oms_aftersales.adapters.orders_client import FreezePayload, OrderFacts, OrdersClient
from oms_aftersales.adapters.refund_repository import AuditRow, RefundRepository
from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.domain.errors import InvalidRequest, TicketNotFound
from oms_aftersales.domain.refund import (
    PAYOUT_API,
    TERMINAL,
    IllegalRefundMove,
    Move,
    Refund,
    RefundRules,
    RefundState,
    ReturnLine,
)
from oms_aftersales.service_layer import refund_log
from oms_aftersales.service_layer.payouts import Payouts

log = logging.getLogger(__name__)
S = RefundState
ORDERS = "orders"
INVENTORY = "inventory"
ORDERS_BRANCH = "orders-01"
INVENTORY_BRANCH = "inventory-01"
KIND = "refund"
MAX_TOTAL = 10_000_000_000_000


class RefundNotFound(NotFound):
    reason = "REFUND_NOT_FOUND"


class RefundRefused(FailedPrecondition):
    """A participant refused the Try; ``reason``/``metadata`` are its own."""


class RefundNotFrozen(FailedPrecondition):
    reason = "REFUND_NOT_FROZEN"


@dataclass(frozen=True)
class RefundRequest:
    request_id: str
    order_id: str
    currency: str  # "" with amount None: the order's
    amount: int | None  # None: priced by line (return_lines at the order's unit prices)
    shipping: int = 0
    ticket_id: str = ""
    return_lines: list[ReturnLine] = field(default_factory=list)
    reason: str = ""
    actor: str = ""


class RefundService:
    def __init__(
        self,
        uow_factory: Callable[[], AftersalesUnitOfWork],
        coordinator: Coordinator,
        orders: OrdersClient,
        inventory: InventoryReturns,
        payouts: Payouts,
        rules: RefundRules,
        clock: Clock,
        *,
        try_timeout: timedelta = timedelta(seconds=30),
    ) -> None:
        self._uow = uow_factory
        self._coordinator = coordinator
        self._orders = orders
        self._inventory = inventory
        self._payouts = payouts
        self._rules = rules
        self._clock = clock
        self._try_timeout = try_timeout
        self.coordinator = coordinator
        self.orders = orders
        self.clock = clock

    # ------------------------------------------------------------------ reads
    async def get(self, refund_id: str) -> Refund:
        async with self._uow() as uow:
            refund = await RefundRepository(uow.session).get(refund_id)
        if refund is None:
            raise RefundNotFound(f"refund {refund_id} not found", metadata={"refund_id": refund_id})
        return refund

    async def get_with_audit(self, refund_id: str) -> tuple[Refund, list[AuditRow]]:
        refund = await self.get(refund_id)
        async with self._uow() as uow:
            trail = await RefundRepository(uow.session).audit_trail(refund_id)
        return refund, trail

    async def page(
        self, *, order_id: str, ticket_id: str, state: str, page_size: int, token: str
    ) -> tuple[list[Refund], str]:
        async with self._uow() as uow:
            return await RefundRepository(uow.session).page(
                order_id=order_id,
                ticket_id=ticket_id,
                state=state,
                page_size=page_size,
                token=token,
            )

    async def transaction(self, refund_id: str) -> GlobalTransaction:
        return await self._coordinator.get((await self.get(refund_id)).gid)

    async def retry_transaction(self, refund_id: str, operator: str) -> GlobalTransaction:
        """An operator puts the refund's PARKED transaction back into its phase."""
        refund = await self.get(refund_id)
        return await self._coordinator.retry(refund.gid, operator=operator)

    # ---------------------------------------------------------------- request
    async def request(self, cmd: RefundRequest) -> tuple[Refund, bool]:
        """Log the refund and its TCC, Try the freeze (and the expected return): the
        refund as it stands and whether the request_id was seen before."""
        _check(cmd)
        async with self._uow() as uow:
            existing = await RefundRepository(uow.session).by_request(cmd.request_id)
            if existing is not None:
                return _same_request(existing, cmd), True
            if cmd.ticket_id and await uow.tickets.get(cmd.ticket_id) is None:
                raise TicketNotFound(f"ticket {cmd.ticket_id} not found")
        order = await self._orders.order(cmd.order_id)
        currency = cmd.currency or order.currency
        if order.currency != currency:
            raise InvalidRequest(
                f"the order is paid in {order.currency}, the refund asks for {currency}"
            )
        amount = cmd.amount if cmd.amount is not None else _priced_by_line(cmd, order)
        now = self._clock.now()
        refund = Refund(
            refund_id=new_id(),
            request_id=cmd.request_id,
            order_id=cmd.order_id,
            ticket_id=cmd.ticket_id,
            platform=order.platform,
            currency=currency,
            amount=amount,
            shipping=cmd.shipping,
            return_lines=list(cmd.return_lines),
            gid=new_id(),
            reservation_gid=order.reservation_gid,
            payment_reference=order.payment_reference,
            shipped=order.shipped,
            created_at=now,
            updated_at=now,
            reason=cmd.reason[:500],
        )
        branches = [(ORDERS_BRANCH, ORDERS)]
        if refund.is_return:
            branches.append((INVENTORY_BRANCH, INVENTORY))
        async with self._uow() as uow:
            repo = RefundRepository(uow.session)
            if not await repo.add(refund):  # the same request_id, concurrently
                await uow.session.rollback()
                async with self._uow() as again:
                    dup = await RefundRepository(again.session).by_request(cmd.request_id)
                assert dup is not None
                return _same_request(dup, cmd), True
            tx = await self._coordinator.begin(
                uow.session,
                refund.gid,
                kind=KIND,
                subject=refund.refund_id,
                branches=branches,
                try_deadline=now + self._try_timeout,
            )
            actor = cmd.actor or "customer"
            await refund_log.created(
                uow.session, refund, Move(S.REQUESTED, S.REQUESTED, actor, cmd.reason[:500]), now
            )
            await uow.commit()
        payloads: dict[str, Any] = {
            ORDERS_BRANCH: FreezePayload(refund.order_id, refund.total, refund.currency),
            INVENTORY_BRANCH: ExpectPayload(
                refund.order_id, refund.reservation_gid, refund.return_lines
            ),
        }
        result = await self._coordinator.try_all(
            tx, payloads, on_tried=self._on_tried, on_refused=self._on_refused
        )
        if result.outcome == TryOutcome.REFUSED and result.refusal is not None:
            refusal = result.refusal
            raise RefundRefused(
                refusal.message,
                reason=refusal.reason,
                metadata={**refusal.metadata, "refund_id": refund.refund_id},
            )
        refund = await self.get(refund.refund_id)
        await self._pay_now(refund)
        return await self.get(refund.refund_id), False

    async def _on_tried(
        self, session: AsyncSession, tx: GlobalTransaction, results: dict[str, Any]
    ) -> None:
        refund = await RefundRepository(session).by_gid(tx.gid)
        assert refund is not None
        target = self._rules.after_try(refund)
        if target is S.REQUESTED:
            return  # waits for an agent
        now = self._clock.now()
        note = {
            S.APPROVED: "refund only, unshipped, under the auto-approval threshold",
            S.AWAITING_RETURN: "goods expected back",
        }[target]
        moves = [refund.move_to(target, now, "rules", note)]
        if target is S.APPROVED:
            moves.append(self._start_payout(refund, now))
        await refund_log.record(session, refund, moves, now)

    async def _on_refused(
        self, session: AsyncSession, tx: GlobalTransaction, refusal: TryRefused
    ) -> None:
        refund = await RefundRepository(session).by_gid(tx.gid)
        assert refund is not None
        now = self._clock.now()
        move = refund.move_to(S.REJECTED, now, "tcc", f"{refusal.reason}: {refusal.message}")
        await refund_log.record(session, refund, [move], now)

    def _start_payout(self, refund: Refund, now: Any) -> Move:
        move = refund.move_to(S.REFUNDING, now, "rules", f"money out via {refund.payout_path}")
        refund.payout_due_at = self._payouts.first_look(refund, now)
        return move

    async def _pay_now(self, refund: Refund) -> None:
        if refund.state is not S.REFUNDING or refund.payout_path != PAYOUT_API:
            return
        try:
            await self._payouts.pay(refund.refund_id)
        except DomainError:  # a concurrent payout settled it first
            log.info("inline payout lost a race", extra={"refund_id": refund.refund_id})

    # ------------------------------------------------------------- decisions
    async def approve(self, refund_id: str, operator: str, note: str) -> Refund:
        async with self._uow() as uow:
            repo = RefundRepository(uow.session)
            refund = await self.require(repo, refund_id)
            await self.require_frozen(refund)
            now = self._clock.now()
            moves = [refund.move_to(S.APPROVED, now, operator or "agent", note)]
            moves.append(self._start_payout(refund, now))
            await refund_log.record(uow.session, refund, moves, now)
            await uow.commit()
        await self._pay_now(refund)
        return await self.get(refund_id)

    async def reject(self, refund_id: str, operator: str, reason: str) -> Refund:
        return await self._release(refund_id, S.REJECTED, operator or "agent", reason)

    async def cancel(self, refund_id: str, operator: str, reason: str) -> Refund:
        return await self._release(refund_id, S.CANCELLED, operator or "agent", reason)

    async def _release(self, refund_id: str, to: RefundState, actor: str, note: str) -> Refund:
        async with self._uow() as uow:
            repo = RefundRepository(uow.session)
            refund = await self.require(repo, refund_id)
            now = self._clock.now()
            move = refund.move_to(to, now, actor, note)
            await refund_log.record(uow.session, refund, [move], now)
            tx, started = await self._coordinator.decide(
                uow.session, refund.gid, TransactionState.CANCELLING, reason=f"{to}: {note}"[:500]
            )
            await uow.commit()
        if started:
            await self._coordinator.drive(tx)
        return await self.get(refund_id)

    # --------------------------------------------------------------- receipt
    async def receive(self, refund_id: str, receipt: Receipt) -> Refund:
        """The warehouse's scan, passed to inventory for the refund's branch: goods as
        expected approve the refund (money out); any difference holds it (RECEIVED)."""
        refund = await self.get(refund_id)
        if refund.is_return and refund.state in (S.RECEIVED, S.APPROVED, S.REFUNDING, S.REFUNDED):
            return refund  # the receipt was decided already (a repeat)
        if refund.state is not S.AWAITING_RETURN:
            raise IllegalRefundMove(
                f"refund {refund_id} cannot move from {refund.state} to {S.RECEIVED}",
                metadata={"from_state": refund.state.value, "to_state": S.RECEIVED.value},
            )
        result = await self._inventory.receive(refund.gid, INVENTORY_BRANCH, receipt)
        async with self._uow() as uow:
            repo = RefundRepository(uow.session)
            refund = await self.require(repo, refund_id)
            if refund.state is not S.AWAITING_RETURN:
                return refund
            now = self._clock.now()
            actor = receipt.actor or "warehouse"
            if result.matches:
                moves = [refund.move_to(S.APPROVED, now, actor, "goods received as expected")]
                moves.append(self._start_payout(refund, now))
            else:
                refund.differences = result.differences[:50]
                note = "held for an agent: " + "; ".join(result.differences)
                moves = [refund.move_to(S.RECEIVED, now, actor, note)]
            await refund_log.record(uow.session, refund, moves, now)
            await uow.commit()
        await self._pay_now(refund)
        return await self.get(refund_id)

    # ---------------------------------------------------------------- helpers
    async def require(self, repo: RefundRepository, refund_id: str) -> Refund:
        refund = await repo.get(refund_id)
        if refund is None:
            raise RefundNotFound(f"refund {refund_id} not found", metadata={"refund_id": refund_id})
        return refund

    async def require_frozen(self, refund: Refund) -> None:
        """Money may go out only against a freeze: the Try must have succeeded."""
        tx = await self._coordinator.get(refund.gid)
        if tx.state is TransactionState.TRYING:
            raise Unavailable(
                f"refund {refund.refund_id}: the amount is still being frozen; retry",
                metadata={"refund_id": refund.refund_id},
            )
        if tx.state is not TransactionState.TRIED and refund.state not in TERMINAL:
            raise RefundNotFrozen(
                f"refund {refund.refund_id} has no frozen amount (transaction {tx.state.value})",
                metadata={"refund_id": refund.refund_id, "state": refund.state.value},
            )


class RequestIdReused(InvalidArgument):
    reason = "REQUEST_ID_REUSED"


def _same_request(existing: Refund, cmd: RefundRequest) -> Refund:
    """A repeat answers the refund as it stands; another request under its id is refused."""
    same = (
        existing.order_id == cmd.order_id
        and (cmd.amount is None or cmd.amount == existing.amount)
        and cmd.shipping == existing.shipping
        and list(cmd.return_lines) == existing.return_lines
    )
    if not same:
        raise RequestIdReused(
            f"request_id {cmd.request_id} was used for another refund request",
            metadata={"refund_id": existing.refund_id},
        )
    return existing


def _priced_by_line(cmd: RefundRequest, order: OrderFacts) -> int:
    """Each return line's quantity at the unit price the order sold that SKU for."""
    if not cmd.return_lines:
        raise InvalidRequest("give an amount, or return lines to price the refund by line")
    unknown = [x.sku for x in cmd.return_lines if x.sku not in order.unit_prices]
    if unknown:
        raise InvalidRequest(
            f"the order has no line for {', '.join(unknown)[:200]}",
            metadata={"skus": ",".join(unknown)[:200]},
        )
    amount = sum(order.unit_prices[x.sku] * x.quantity for x in cmd.return_lines)
    if not 0 < amount + cmd.shipping <= MAX_TOTAL:
        raise InvalidRequest("the refund must be more than zero (amount plus shipping)")
    return amount


def _check(cmd: RefundRequest) -> None:
    if (cmd.amount is not None and cmd.amount < 0) or cmd.shipping < 0:
        raise InvalidRequest("amounts must not be negative")
    if cmd.amount is not None and not 0 < cmd.amount + cmd.shipping <= MAX_TOTAL:
        raise InvalidRequest("the refund must be more than zero (amount plus shipping)")
    skus = [x.sku for x in cmd.return_lines]
    if len(set(skus)) != len(skus):
        raise InvalidRequest("each SKU at most once in return_lines")
    if any(x.quantity <= 0 for x in cmd.return_lines):
        raise InvalidRequest("return quantities must be positive")
