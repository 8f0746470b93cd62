"""The refund TCC's hooks: called in the local transaction that logs each new state.

A Try lost to an unknown outcome (the recovery loop cancels a TRYING transaction past
its deadline) fails the refund still REQUESTED; a PARKED transaction (a participant
refused Confirm/Cancel for good, or kept failing) writes a RefundParked alert event
and an ERROR line, for an operator.
"""

from __future__ import annotations

import logging

from omslib.clock import Clock
from omslib.tcc import PARKED_CODE, GlobalTransaction, TransactionState
from sqlalchemy.ext.asyncio import AsyncSession

from oms_aftersales.adapters.refund_repository import RefundRepository
from oms_aftersales.domain.refund import RefundState
from oms_aftersales.service_layer import refund_log

log = logging.getLogger(__name__)
T = TransactionState


class RefundTransactionHooks:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def on_transition(
        self, session: AsyncSession, tx: GlobalTransaction, before: TransactionState
    ) -> None:
        if tx.kind != "refund":
            return
        now = self._clock.now()
        if before is T.TRYING and tx.state is T.CANCELLING:
            refund = await RefundRepository(session).by_gid(tx.gid)
            if refund is not None and refund.state is RefundState.REQUESTED:
                move = refund.move_to(
                    RefundState.FAILED, now, "tcc", f"TRY_UNKNOWN: {tx.reason}"[:500]
                )
                await refund_log.record(session, refund, [move], now)
        elif tx.state is T.PARKED:
            log.error(
                "%s refund %s: transaction %s parked (%s)",
                PARKED_CODE,
                tx.subject,
                tx.gid,
                tx.reason,
                extra={"code": PARKED_CODE, "gid": tx.gid, "refund_id": tx.subject},
            )
            await refund_log.parked(session, tx.subject, tx.gid, tx.reason, now)
