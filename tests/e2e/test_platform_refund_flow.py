"""A marketplace's refund, end to end, every service its own process: a Taobao order is
pushed and paid through the gateway; Taobao then pushes that it refunded the buyer
(``taobao_refund_RefundSuccess``); the gateway records the case on a ticket and the
platform's refund in aftersales, which completes a refund of that amount through the
refund TCC, so the order shows it refunded without anything paid by us."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.aftersales.v1 import aftersales_service_pb2_grpc as pb_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms.type.v1 import platform_pb2
from oms_cli.stack import DEV_PLATFORM_ENV, Stack
from omslib.platforms.samples import aftersales as samples
from omslib.platforms.samples import taobao
from omslib.testing.polling import wait_until
from stack_support import post_push, start_stack

pytestmark = pytest.mark.e2e

TID = "3900000000000777"
KEY = DEV_PLATFORM_ENV["OMS_PLATFORM_TAOBAO_KEY"]
SECRET = DEV_PLATFORM_ENV["OMS_PLATFORM_TAOBAO_SECRET"]


@pytest.fixture
def stack(
    tmp_path: Path, make_database_url: Callable[[str], str], redis_url: str
) -> Iterator[Stack]:
    running = start_stack(tmp_path / "var", make_database_url, redis_url)
    try:
        yield running
    finally:
        running.stop()


def paid_order(stack: Stack) -> order_pb2.Order | None:
    with grpc.insecure_channel(stack.addr("orders")) as channel:
        stub = orders_service_pb2_grpc.OrdersServiceStub(channel)
        reply = stub.ListOrders(
            orders_service_pb2.ListOrdersRequest(platform=platform_pb2.PLATFORM_TAOBAO), timeout=5
        )
    paid = [o for o in reply.orders if o.platform_order_id == TID and o.HasField("payment")]
    return paid[0] if paid else None


def refunds_of(stack: Stack, order: str) -> list[apb.Refund]:
    with grpc.insecure_channel(stack.addr("aftersales")) as channel:
        stub = pb_grpc.AftersalesServiceStub(channel)
        return list(stub.ListRefunds(pb.ListRefundsRequest(order=order), timeout=5).refunds)


def test_a_taobao_refund_push_completes_a_refund_of_that_amount_once(stack: Stack) -> None:
    query, body, headers = taobao.sample_push(KEY, SECRET, TID, [("CAP-RED", 1)], status="paid")
    assert post_push(stack, body, headers, platform=f"taobao?{query}").status_code == 200
    order = wait_until(lambda: paid_order(stack), within=60, what="the paid Taobao order")

    query, body, headers = samples.taobao_refund(
        KEY,
        SECRET,
        message_id=880001,
        tid=TID,
        refund_id="RF-E2E-1",
        topic="taobao_refund_RefundSuccess",
    )
    for _ in range(2):  # Taobao resends: recorded once
        assert post_push(stack, body, headers, platform=f"taobao?{query}").status_code == 200

    def refunded() -> list[apb.Refund]:
        shown = refunds_of(stack, order.name)
        return shown if [r.state for r in shown] == [apb.REFUND_STATE_REFUNDED] else []

    (refund,) = wait_until(refunded, within=60, what="the platform's refund recorded")
    assert refund.amount.minor_units == 1250 and refund.payout_path == "platform"
    assert refund.payout_reference == "RF-E2E-1" and refund.ticket

    def on_the_order() -> order_pb2.Order | None:
        shown = paid_order(stack)
        return shown if shown and shown.refunded.minor_units == 1250 else None

    shown = wait_until(on_the_order, within=60, what="orders to record the refund")
    assert shown.refundable.minor_units == shown.payment.amount.minor_units - 1250
    with grpc.insecure_channel(stack.addr("aftersales")) as channel:
        ticket = pb_grpc.AftersalesServiceStub(channel).GetTicket(
            pb.GetTicketRequest(name=refund.ticket), timeout=5
        )
    assert [r.name for r in ticket.refunds] == [refund.name]
    assert ticket.ticket.order == order.name
