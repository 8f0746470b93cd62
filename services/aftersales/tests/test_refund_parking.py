"""A Confirm that orders refuses for good (its freeze was released behind the coordinator's
back) parks the refund's transaction: an ERROR line and a RefundParked alert event."""

from __future__ import annotations

import logging

import grpc
import pytest
import sqlalchemy as sa
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.orders.v1 import orders_service_pb2 as opb
from oms.tcc.v1 import tcc_pb2
from oms.type.v1 import money_pb2
from oms_aftersales.adapters import orm
from omslib.tcc import PARKED_CODE


async def test_a_refused_confirm_parks_and_alerts(
    refund_stack, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("P1", [("TEE", 1)], shipped=True)
    refund = (
        await s.aftersales.RequestRefund(
            pb.RequestRefundRequest(
                order=order.name,
                amount=money_pb2.Money(minor_units=700, currency_code="CNY"),
                request_id="r-p1",
            )
        )
    ).refund
    assert refund.state == apb.REFUND_STATE_REQUESTED
    # Someone releases the freeze directly at orders (not through the coordinator).
    await s.orders.CancelFreezeRefund(
        opb.CancelFreezeRefundRequest(tcc=tcc_pb2.TccContext(gid=refund.gid, branch_id="orders-01"))
    )
    caplog.set_level(logging.ERROR)
    paid = await s.aftersales.ApproveRefund(pb.ApproveRefundRequest(name=refund.name, operator="a"))
    assert paid.refund.state == apb.REFUND_STATE_REFUNDED  # the money did go out, once
    assert sum(s.payments.payments.values()) == 1
    assert any(getattr(r, "code", "") == PARKED_CODE for r in caplog.records)
    async with s.app.engine.connect() as conn:
        types = (await conn.execute(sa.select(orm.outbox.outbox.c.event_type))).scalars().all()
    assert any(t.endswith("RefundParked") for t in types), types


async def test_an_operator_retries_a_parked_refund_transaction(refund_stack, error_info) -> None:  # type: ignore[no-untyped-def]
    s = refund_stack
    await s.put_stock("TEE", 10)
    order = await s.paid_order("P2", [("TEE", 1)], shipped=True)
    ask = pb.RequestRefundRequest(
        order=order.name,
        amount=money_pb2.Money(minor_units=700, currency_code="CNY"),
        request_id="r-p2",
    )
    refund = (await s.aftersales.RequestRefund(ask)).refund
    tx = await s.aftersales.GetRefundTransaction(pb.GetRefundTransactionRequest(name=refund.name))
    assert tx.transaction.state == tcc_pb2.TRANSACTION_STATE_TRIED
    assert [b.participant for b in tx.transaction.branches] == ["orders"]
    with pytest.raises(grpc.aio.AioRpcError) as not_parked:
        await s.aftersales.RetryRefundTransaction(
            pb.RetryRefundTransactionRequest(name=refund.name, operator="ops")
        )
    assert error_info(not_parked.value).reason == "TRANSACTION_NOT_PARKED"
    await s.orders.CancelFreezeRefund(
        opb.CancelFreezeRefundRequest(tcc=tcc_pb2.TccContext(gid=refund.gid, branch_id="orders-01"))
    )
    await s.aftersales.ApproveRefund(pb.ApproveRefundRequest(name=refund.name, operator="a"))
    parked = await s.aftersales.GetRefundTransaction(
        pb.GetRefundTransactionRequest(name=refund.name)
    )
    assert parked.transaction.state == tcc_pb2.TRANSACTION_STATE_PARKED
    again = await s.aftersales.RetryRefundTransaction(
        pb.RetryRefundTransactionRequest(name=refund.name, operator="ops")
    )
    assert again.transaction.state == tcc_pb2.TRANSACTION_STATE_PARKED  # still refused
    assert again.transaction.reason.startswith("REFUND_FREEZE_NOT_FOUND")
    before = parked.transaction.update_time.ToNanoseconds()
    assert again.transaction.update_time.ToNanoseconds() > before  # a new round ran
