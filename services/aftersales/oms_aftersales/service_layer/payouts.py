"""Money out, exactly once, on the original path.

A refund in REFUNDING on the payment-API path (own shop, Shopify) is paid with the
idempotency key ``refund-{refund_id}``, fixed for its whole life: an unknown outcome
(timeout, 5xx, lost connection) keeps the refund REFUNDING and is retried later with
the same key (backoff, an ERROR line ``REFUND_PAYOUT_STUCK`` past the attempt limit),
never re-issued with a new one. Paid -> REFUNDED and the TCC Confirm is logged in the
same local transaction (orders records the refund, inventory restocks); refused ->
FAILED and the Cancel is logged (the freeze released). Marketplace refunds are paid
by the platform: nothing is called, ``RecordPlatformRefund`` completes them.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

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
from oms_aftersales.domain.refund import PAYOUT_API, RefundState
from oms_aftersales.service_layer import refund_log

log = logging.getLogger(__name__)
S = RefundState
STUCK_CODE = "REFUND_PAYOUT_STUCK"


class Payouts:
    def __init__(
        self,
        uow_factory: Callable[[], AftersalesUnitOfWork],
        coordinator: Coordinator,
        provider: PaymentProvider,
        clock: Clock,
        *,
        policy: RetryPolicy,
        lease: NamedLease | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._uow = uow_factory
        self._coordinator = coordinator
        self._provider = provider
        self._clock = clock
        self._policy = policy
        self._lease = lease
        self._rng = rng or random.Random()

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
        """Retry the payouts that are due (only the holder of the payouts lease)."""
        if self._lease is not None and not await self._lease.hold():
            return 0
        async with self._uow() as uow:
            due = await RefundRepository(uow.session).due_payouts(self._clock.now(), limit)
        for refund_id in due:
            try:
                await self.pay(refund_id)
            except Exception:
                log.exception("payout round failed", extra={"refund_id": refund_id})
        return len(due)
