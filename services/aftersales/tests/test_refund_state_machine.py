"""The refund state machine and approval rules, as plain domain objects."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from oms_aftersales.domain.refund import (
    MOVES,
    TERMINAL,
    IllegalRefundMove,
    Refund,
    RefundRules,
    RefundState,
    ReturnLine,
    payout_path,
)

S = RefundState
T0 = datetime(2026, 9, 15, 2, 0, tzinfo=UTC)


def refund(*, shipped: bool = False, amount: int = 1000, lines: int = 0) -> Refund:
    return Refund(
        refund_id="R1",
        request_id="q",
        order_id="O1",
        ticket_id="",
        platform="shop",
        currency="CNY",
        amount=amount,
        shipping=0,
        return_lines=[ReturnLine("TEE", 1)] * lines,
        gid="G1",
        reservation_gid="G0",
        payment_reference="PAY-1",
        shipped=shipped,
        created_at=T0,
        updated_at=T0,
    )


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_move_outside_the_table_names_both_states(source: S, target: S) -> None:
    r = refund()
    r.state = source
    if target in MOVES[source]:
        move = r.move_to(target, T0, "agent", "why")
        assert (move.before, move.after, r.state) == (source, target, target)
        return
    with pytest.raises(IllegalRefundMove) as refused:
        r.move_to(target, T0, "agent")
    assert refused.value.metadata == {"from_state": source.value, "to_state": target.value}
    assert r.state is source


def test_terminal_states_and_money_only_after_refunding() -> None:
    assert frozenset({S.REFUNDED, S.REJECTED, S.CANCELLED, S.FAILED}) == TERMINAL
    assert not {s: MOVES[s] for s in TERMINAL if MOVES.get(s)}  # no way out of them
    assert [s for s, targets in MOVES.items() if S.REFUNDED in targets] == [S.REFUNDING]


def test_rules_approve_only_small_unshipped_refunds_and_returns_wait_for_goods() -> None:
    rules = RefundRules(auto_approve_max_minor_units=1000)
    assert rules.after_try(refund(amount=1000)) is S.APPROVED
    assert rules.after_try(refund(amount=1001)) is S.REQUESTED
    assert rules.after_try(refund(shipped=True, amount=1)) is S.REQUESTED
    assert rules.after_try(refund(lines=1)) is S.AWAITING_RETURN


def test_marketplaces_refund_on_the_platform_others_through_the_payment_api() -> None:
    assert {
        p: payout_path(p) for p in ("taobao", "jd", "pdd", "douyin", "youzan")
    } == dict.fromkeys(("taobao", "jd", "pdd", "douyin", "youzan"), "platform")
    assert payout_path("shopify") == payout_path("shop") == "payment_api"
