"""Every change of a refund goes through ``RefundLog``: the row saved (conditional on its
version), one audit row and one RefundChanged event per move, in the caller's session,
so the refund, its trail and its events commit together (with the TCC log, when the
coordinator's callback or ``decide`` shares the session)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from oms.events.v1.aftersales_events_pb2 import RefundChanged, RefundParked
from omslib.outbox import STREAM_AFTERSALES, add_event, build_envelope
from sqlalchemy.ext.asyncio import AsyncSession

from oms_aftersales.adapters import orm
from oms_aftersales.adapters.refund_mapping import refund_name, refund_to_proto, state_to_proto
from oms_aftersales.adapters.refund_repository import RefundRepository
from oms_aftersales.adapters.unit_of_work import SOURCE
from oms_aftersales.domain.refund import Move, Refund
from oms_aftersales.service_layer.ticket_log import _trace_id

REFUND = "refund"


async def record(
    session: AsyncSession, refund: Refund, moves: Sequence[Move], at: datetime
) -> None:
    repo = RefundRepository(session)
    await repo.save(refund)
    trace_id = _trace_id()
    for move in moves:
        await repo.audit(refund.refund_id, move, trace_id, at)
        event = RefundChanged(
            refund=refund_to_proto(refund),
            from_state=state_to_proto(move.before),
            actor=move.actor,
            note=move.note,
        )
        await _emit(session, refund.refund_id, event, at)


async def created(session: AsyncSession, refund: Refund, move: Move, at: datetime) -> None:
    """The first audit row and event of a refund just inserted."""
    await RefundRepository(session).audit(refund.refund_id, move, _trace_id(), at)
    event = RefundChanged(
        refund=refund_to_proto(refund),
        from_state=state_to_proto(move.before),
        actor=move.actor,
        note=move.note,
    )
    await _emit(session, refund.refund_id, event, at)


async def parked(
    session: AsyncSession, refund_id: str, gid: str, reason: str, at: datetime
) -> None:
    event = RefundParked(refund=refund_name(refund_id), gid=gid, reason=reason[:500])
    await _emit(session, refund_id, event, at)


async def _emit(session: AsyncSession, refund_id: str, event: object, at: datetime) -> None:
    envelope = build_envelope(
        event,  # type: ignore[arg-type]
        source=SOURCE,
        aggregate_type=REFUND,
        aggregate_id=refund_id,
        occur_time=at,
    )
    await add_event(session, orm.outbox, stream=STREAM_AFTERSALES, envelope=envelope)
