"""Property, against the real servers: for any interleaving of requests (refunds and
returns, duplicates included), approvals, rejections, cancellations, receipts, platform
refunds, provider failures and payout rounds, the order never refunds more than was
paid, the order's refunded and frozen amounts equal the refunds' own, no payment key is
paid twice, and money goes out only for a refund that reached REFUNDING."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import grpc
from fake_payments import FakePayments
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.type.v1 import money_pb2, platform_pb2
from omslib.ids import new_id
from omslib.testing.polling import eventually

S = apb
OPEN = {
    S.REFUND_STATE_REQUESTED,
    S.REFUND_STATE_AWAITING_RETURN,
    S.REFUND_STATE_RECEIVED,
    S.REFUND_STATE_APPROVED,
    S.REFUND_STATE_REFUNDING,
}
REFUSALS = {
    "REFUND_EXCEEDS_REFUNDABLE",
    "RETURN_EXCEEDS_DEDUCTED",
    "ILLEGAL_REFUND_MOVE",
    "PLATFORM_REFUND_UNMATCHED",
    "RESERVATION_NOT_CONFIRMED",
}


def cny(units: int) -> money_pb2.Money:
    return money_pb2.Money(minor_units=units, currency_code="CNY")


def test_refund_interleavings_keep_the_money_right(
    make_database_url: Callable[[str], str],
    redis_url: str,
    fake_payments: FakePayments,
    refund_stack_factory: Any,
    error_info: Any,
) -> None:
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete
    stack_cm = refund_stack_factory(make_database_url, redis_url, fake_payments)
    s = run(stack_cm.__aenter__())
    run(s.put_stock("TEE", 100000))
    numbers = itertools.count()

    class Interleavings(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            n = next(numbers)
            self.marketplace = n % 3 == 0
            self.shipped = n % 2 == 1
            platform = (
                platform_pb2.PLATFORM_TAOBAO if self.marketplace else platform_pb2.PLATFORM_SHOP
            )
            s.payments.script.clear()
            self.order = run(
                s.paid_order(
                    f"H{n}-{new_id()[-6:]}", [("TEE", 2)], platform=platform, shipped=self.shipped
                )
            )
            self.requests: list[pb.RequestRefundRequest] = []
            self.names: list[str] = []

        def _call(self, call: Any) -> Any:
            try:
                return run(call)
            except grpc.aio.AioRpcError as err:
                reason = error_info(err).reason
                assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, (err, reason)
                assert reason in REFUSALS, reason
                return None

        def _pick(self, i: int) -> str | None:
            return self.names[i % len(self.names)] if self.names else None

        @rule(units=st.integers(1, 4500), ret=st.booleans(), repeat=st.booleans())
        def request(self, units: int, ret: bool, repeat: bool) -> None:
            lines = [apb.ReturnLine(sku="TEE", quantity=1)] if ret and self.shipped else []
            request = pb.RequestRefundRequest(
                order=self.order.name, amount=cny(units), request_id=new_id(), return_lines=lines
            )
            if repeat and self.requests:
                request = self.requests[-1]  # the same request again
            else:
                self.requests.append(request)
            reply = self._call(s.aftersales.RequestRefund(request))
            if reply is not None and reply.refund.name not in self.names:
                self.names.append(reply.refund.name)

        @rule(i=st.integers(0, 20), action=st.sampled_from(["approve", "reject", "cancel"]))
        def decide(self, i: int, action: str) -> None:
            name = self._pick(i)
            if name is None:
                return
            call = {
                "approve": lambda: s.aftersales.ApproveRefund(
                    pb.ApproveRefundRequest(name=name, operator="agent")
                ),
                "reject": lambda: s.aftersales.RejectRefund(
                    pb.RejectRefundRequest(name=name, operator="agent", reason="no")
                ),
                "cancel": lambda: s.aftersales.CancelRefund(
                    pb.CancelRefundRequest(name=name, operator="customer")
                ),
            }[action]
            self._call(call())

        @rule(i=st.integers(0, 20), damaged=st.booleans())
        def receive(self, i: int, damaged: bool) -> None:
            name = self._pick(i)
            if name is None:
                return
            self._call(
                s.aftersales.ReceiveReturn(
                    pb.ReceiveReturnRequest(
                        name=name,
                        warehouse_code="HZ1",
                        request_id=new_id(),
                        lines=[pb.ReceivedUnits(sku="TEE", quantity=1, damaged=damaged)],
                    )
                )
            )

        @rule(units=st.integers(1, 4500), i=st.integers(0, 20))
        def platform_refund(self, units: int, i: int) -> None:
            if not self.marketplace:
                return
            name = self._pick(i)
            shown = None
            if name is not None:  # the platform refunds one of ours, or an amount of its own
                shown = run(s.aftersales.GetRefund(pb.GetRefundRequest(name=name))).refund
            amount = shown.amount.minor_units if shown is not None and i % 2 else units
            reply = self._call(
                s.aftersales.RecordPlatformRefund(
                    pb.RecordPlatformRefundRequest(
                        order=self.order.name, platform_refund_id=new_id(), amount=cny(amount)
                    )
                )
            )
            if reply is not None and reply.refund.name not in self.names:
                self.names.append(reply.refund.name)

        @rule(mode=st.sampled_from(["ok", "late", "fail", "refuse"]))
        def provider_answers_next(self, mode: str) -> None:
            s.payments.script.append(mode)

        @rule()
        def payout_round(self) -> None:
            run(asyncio.sleep(0.25))
            run(s.app.payouts.run_once())  # type: ignore[attr-defined]

        @invariant()
        def money_is_right(self) -> None:
            order = run(s.order(self.order.name))
            refunds = [
                run(s.aftersales.GetRefund(pb.GetRefundRequest(name=n))).refund for n in self.names
            ]
            paid = order.total.minor_units
            assert order.refunded.minor_units + order.refund_frozen.minor_units <= paid
            assert all(count == 1 for count in s.payments.payments.values())
            for r in refunds:
                if f"refund-{r.refund_id}" in s.payments.paid:
                    assert r.state in (S.REFUND_STATE_REFUNDING, S.REFUND_STATE_REFUNDED), r
                    assert r.payout_path == "payment_api"
            run(eventually(self._books_agree, what="orders' books to match the refunds"))

        async def _books_agree(self) -> bool:
            """Orders' refunded and frozen amounts equal what the refunds say. A refund paid
            by the background payout job is REFUNDED before its TCC Confirm reaches orders,
            so the books agree once the round has finished, not at every instant."""
            order = await s.order(self.order.name)
            refunds = [
                (await s.aftersales.GetRefund(pb.GetRefundRequest(name=n))).refund
                for n in self.names
            ]
            refunded = sum(
                r.amount.minor_units for r in refunds if r.state == S.REFUND_STATE_REFUNDED
            )
            frozen = sum(r.amount.minor_units for r in refunds if r.state in OPEN)
            books = (order.refunded.minor_units, order.refund_frozen.minor_units)
            return books == (refunded, frozen)

    try:
        run_state_machine_as_test(
            Interleavings,
            settings=settings(
                max_examples=10,
                stateful_step_count=12,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )
    finally:
        run(stack_cm.__aexit__(None, None, None))
        loop.close()
