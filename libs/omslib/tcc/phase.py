"""One Confirm or Cancel round: call every branch not done yet, then fold the answers
into the transaction (done, retry later, or parked)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from opentelemetry import trace

from omslib.tcc.contracts import Participant, PhaseRefused
from omslib.tcc.model import BranchState, GlobalTransaction, Phase, TransactionState
from omslib.tcc.retry import RetryPolicy
from omslib.telemetry.attributes import SPAN_ATTR_BRANCH, SPAN_ATTR_GID

tracer = trace.get_tracer("omslib.tcc")
SPAN_ATTR_OUTCOME = "oms.outcome"
T = TransactionState
B = BranchState


@dataclass
class RoundAnswers:
    """What the branches answered: done, failed (with why), refused for good."""

    done: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)
    refused: PhaseRefused | None = None


def op_name(phase: Phase) -> str:
    return "confirm" if phase is Phase.CONFIRM else "cancel"


async def call_branches(
    tx: GlobalTransaction, participants: Mapping[str, Participant]
) -> RoundAnswers:
    """Confirm or Cancel (by ``tx.phase``) every branch not done yet, one span each."""
    op = op_name(tx.phase)
    answers = RoundAnswers()
    with tracer.start_as_current_span(f"tcc.{op}") as span:
        span.set_attribute(SPAN_ATTR_GID, tx.gid)
        for b in tx.branches:
            if tx.phase not in b.done_for:
                await _call_branch(tx, b.branch_id, participants[b.participant], answers)
        span.set_attribute(SPAN_ATTR_OUTCOME, "ok" if not answers.errors else "retry")
    return answers


async def _call_branch(
    tx: GlobalTransaction, branch_id: str, participant: Participant, answers: RoundAnswers
) -> None:
    op = op_name(tx.phase)
    with tracer.start_as_current_span(f"tcc.{op} {branch_id}") as span:
        span.set_attribute(SPAN_ATTR_GID, tx.gid)
        span.set_attribute(SPAN_ATTR_BRANCH, branch_id)
        try:
            if tx.phase is Phase.CONFIRM:
                await participant.confirm(tx.gid, branch_id)
            else:
                await participant.cancel(tx.gid, branch_id)
        except PhaseRefused as err:
            answers.refused = answers.refused or err
            answers.errors[branch_id] = f"{err.reason}: {err.message}"
            span.set_attribute(SPAN_ATTR_OUTCOME, "refused")
        except asyncio.CancelledError:
            raise
        except Exception as err:
            answers.errors[branch_id] = f"{type(err).__name__}: {err}"
            span.set_attribute(SPAN_ATTR_OUTCOME, "error")
        else:
            answers.done.add(branch_id)
            span.set_attribute(SPAN_ATTR_OUTCOME, "ok")


def fold_round(
    tx: GlobalTransaction,
    answers: RoundAnswers,
    *,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> bool:
    """Apply the round's answers to ``tx``; True when it was parked.

    All done: CONFIRMED/CANCELLED. A permanent refusal, or the last attempt
    failing: PARKED, for a person. Otherwise the next attempt is scheduled.
    """
    branch_state = B.CONFIRMED if tx.phase is Phase.CONFIRM else B.CANCELLED
    for b in tx.branches:
        if b.branch_id in answers.done:
            b.move_to(branch_state, at=now)
        if b.branch_id in answers.errors:
            b.attempts += 1
            b.last_error = answers.errors[b.branch_id]
            b.update_time = now
    if not answers.errors:
        tx.move_to(T.CONFIRMED if tx.phase is Phase.CONFIRM else T.CANCELLED, at=now)
        return False
    tx.attempts += 1
    if answers.refused is None and tx.attempts < policy.max_attempts:
        tx.next_attempt_time = now + policy.delay(tx.attempts, rng)
        tx.update_time = now
        return False
    if answers.refused is not None:
        why = f"{answers.refused.reason}: {answers.refused.message}"
    else:
        failures = "; ".join(f"{k}: {v}" for k, v in answers.errors.items())
        why = f"{op_name(tx.phase)} failed {tx.attempts} times: {failures}"
    tx.move_to(T.PARKED, at=now, reason=why)
    return True
