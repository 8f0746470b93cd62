"""Fifty simultaneous full refunds of one paid order against the running services:
orders' conditional freeze lets exactly one through; money goes out once."""

from __future__ import annotations

import asyncio

import grpc
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.type.v1 import money_pb2

UNIT = 1999


async def test_fifty_simultaneous_full_refunds_one_succeeds_and_one_payment_is_made(
    refund_stack, error_info
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("C1", [("TEE", 1)])
    full = money_pb2.Money(minor_units=UNIT, currency_code="CNY")

    async def one(i: int) -> str:
        request = pb.RequestRefundRequest(order=order.name, amount=full, request_id=f"c1-{i}")
        try:
            reply = await s.aftersales.RequestRefund(request, timeout=60)
        except grpc.aio.AioRpcError as err:
            return error_info(err).reason or err.code().name
        return apb.RefundState.Name(reply.refund.state)

    answers = await asyncio.gather(*(one(i) for i in range(50)))
    assert sorted(set(answers)) == ["REFUND_EXCEEDS_REFUNDABLE", "REFUND_STATE_REFUNDED"]
    assert answers.count("REFUND_STATE_REFUNDED") == 1
    assert answers.count("REFUND_EXCEEDS_REFUNDABLE") == 49
    assert sum(s.payments.payments.values()) == 1 and s.payments.total_paid == UNIT
    after = await s.order(order.name)
    assert after.refunded.minor_units == UNIT and after.refundable.minor_units == 0
    listed = await s.aftersales.ListRefunds(pb.ListRefundsRequest(order=order.name, page_size=100))
    states = [r.state for r in listed.refunds]
    assert states.count(apb.REFUND_STATE_REFUNDED) == 1
    assert states.count(apb.REFUND_STATE_REJECTED) == 49
