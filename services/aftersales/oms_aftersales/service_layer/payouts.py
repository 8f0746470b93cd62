"""Money out, exactly once, on the original path.

A refund in REFUNDING on the payment-API path (own shop, Shopify) is paid with the
idempotency key ``refund-{refund_id}``, fixed for its whole life: an unknown outcome
(timeout, 5xx, lost connection) keeps the refund REFUNDING and is retried later with
the same key (backoff, an ERROR line ``REFUND_PAYOUT_STUCK`` past the attempt limit),
never re-issued with a new one. Paid -> REFUNDED and the TCC Confirm is logged in the
same local transaction (orders records the refund, inventory restocks); refused ->
FAILED and the Cancel is logged (the freeze released). Marketplace refunds are paid
by the platform: nothing is called, ``RecordPlatformRefund`` completes them (the
gateway calls it on the platform's refund-success push); one still REFUNDING after
``platform_wait`` gets an ERROR line ``REFUND_PLATFORM_OVERDUE``, again each
``platform_wait``, until the platform's refund is recorded or an agent acts.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from omslib.clock import Clock
from omslib.outbox.named_lease import NamedLease
from omslib.tcc import Coordinator, RetryPolicy, TransactionState

from oms_aftersales.adapters.refund_repository import RefundRepository
from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.domain.payouts import (
    PaymentProvider,
    PayoutRefused,
    PayoutRequest,
    PayoutUnknown,
    payout_key,
)
from oms_aftersales.domain.refund import PAYOUT_API, PAYOUT_PLATFORM, Refund, RefundState
from oms_aftersales.service_layer import refund_log

log = logging.getLogger(__name__)
S = RefundState
STUCK_CODE = "REFUND_PAYOUT_STUCK"
OVERDUE_CODE = "REFUND_PLATFORM_OVERDUE"


class Payouts:
    def __init__(
        self,
        uow_factory: Callable[[], AftersalesUnitOfWork],
        coordinator: Coordinator,
        provider: PaymentProvider,
        clock: Clock,
        *,
        policy: RetryPolicy,
        grace: timedelta = timedelta(seconds=30),
        platform_wait: timedelta = timedelta(hours=48),
        lease: NamedLease | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._uow = uow_factory
        self._coordinator = coordinator
        self._provider = provider
        self._clock = clock
        self._policy = policy
        self._grace = grace
        self._platform_wait = platform_wait
        self._lease = lease
        self._rng = rng or random.Random()

    def first_look(self, refund: Refund, now: datetime) -> datetime:
        """When the job first looks at a refund that has just moved to REFUNDING: an API
        payout after ``grace`` (the inline call goes first; the job picks the refund up
        only if that is lost), a marketplace's after ``platform_wait``."""
        return now + (self._grace if refund.payout_path == PAYOUT_API else self._platform_wait)

    async def pay(self, refund_id: str) -> None:
        """One payout attempt for a refund in REFUNDING on the payment-API path."""
        async with self._uow() as uow:
            refund = await RefundRepository(uow.session).get(refund_id)
        if refund is None or refund.state is not S.REFUNDING or refund.payout_path != PAYOUT_API:
            return
        request = PayoutRequest(
            key=payout_key(refund_id),
            payment_reference=refund.payment_reference,
            amount=refund.total,
            currency=refund.currency,
        )
        try:
            reference = await self._provider.refund(request)
        except PayoutUnknown as err:
            await self._later(refund_id, str(err))
            return
        except PayoutRefused as err:
            await self._settle(refund_id, S.FAILED, f"PAYOUT_REFUSED: {err.reason}", "")
            return
        await self._settle(refund_id, S.REFUNDED, "paid to the original payment path", reference)

    async def _later(self, refund_id: str, error: str) -> None:
        async with self._uow() as uow:
            repo = RefundRepository(uow.session)
            refund = await repo.get(refund_id)
            if refund is None or refund.state is not S.REFUNDING:
                return
            refund.payout_attempts += 1
            now = self._clock.now()
            refund.payout_due_at = now + self._policy.delay(refund.payout_attempts, self._rng)
            await repo.save(refund)
            await uow.commit()
        extra = {"refund_id": refund_id, "attempts": refund.payout_attempts, "error": error}
        if refund.payout_attempts >= self._policy.max_attempts:
            log.error(
                "%s refund %s: payout outcome still unknown after %d attempts (%s); retrying "
                "with the same key",
                STUCK_CODE,
                refund_id,
                refund.payout_attempts,
                error,
                extra={"code": STUCK_CODE, **extra},
            )
        else:
            log.warning("refund payout outcome unknown; retried later", extra=extra)

    async def _settle(self, refund_id: str, to: RefundState, note: str, reference: str) -> None:
        target = TransactionState.CONFIRMING if to is S.REFUNDED else TransactionState.CANCELLING
        async with self._uow() as uow:
            refund = await RefundRepository(uow.session).get(refund_id)
            if refund is None or refund.state is not S.REFUNDING:
                return
            now = self._clock.now()
            refund.payout_reference = reference
            refund.payout_due_at = None
            move = refund.move_to(to, now, "payments", note)
            await refund_log.record(uow.session, refund, [move], now)
            tx, started = await self._coordinator.decide(
                uow.session, refund.gid, target, reason=note
            )
            await uow.commit()
        if started:
            await self._coordinator.drive(tx)

    async def run_once(self, *, limit: int = 20) -> int:
        """Retry the payouts that are due and raise the overdue marketplace refunds (only
        the holder of the payouts lease)."""
        if self._lease is not None and not await self._lease.hold():
            return 0
        async with self._uow() as uow:
            repo = RefundRepository(uow.session)
            due = await repo.due_payouts(self._clock.now(), limit)
            overdue = await repo.due_payouts(self._clock.now(), limit, path=PAYOUT_PLATFORM)
        for refund_id in due:
            try:
                await self.pay(refund_id)
            except Exception:
                log.exception("payout round failed", extra={"refund_id": refund_id})
        for refund_id in overdue:
            await self._overdue(refund_id)
        return len(due) + len(overdue)

    async def _overdue(self, refund_id: str) -> None:
        async with self._uow() as uow:
            repo = RefundRepository(uow.session)
            refund = await repo.get(refund_id)
            if refund is None or refund.state is not S.REFUNDING:
                return
            now = self._clock.now()
            refund.payout_attempts += 1  # here: how many times it was raised
            refund.payout_due_at = now + self._platform_wait
            await repo.save(refund)
            await uow.commit()
        log.error(
            "%s refund %s of order %s: approved, but the platform has not reported its refund "
            "after %s; check the refund on the platform's seller console",
            OVERDUE_CODE,
            refund_id,
            refund.order_id,
            self._platform_wait * refund.payout_attempts,
            extra={"code": OVERDUE_CODE, "refund_id": refund_id, "order_id": refund.order_id},
        )
