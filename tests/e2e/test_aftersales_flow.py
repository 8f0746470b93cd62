"""After-sales end to end, every service its own process: a paid order that passes its
promised ship time gets an RTS-001 ticket; a buyer's WeChat message "这个不想要了，怎么退货"
opens a RET-001 ticket linked to the buyer's order; the profile shows both and the mood."""

# ruff: noqa: RUF001, RUF002 - buyers write Chinese punctuation; the messages keep it.

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.aftersales.v1 import aftersales_service_pb2_grpc as pb_grpc
from oms.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from oms_cli.stack import DEV_PLATFORM_ENV, Stack
from omslib.platforms.samples import aftersales as samples
from omslib.testing.polling import wait_until
from stack_support import (
    STACK_ADMIN_TOKEN,
    inbox_entries,
    post_push,
    signed_shop_push,
    start_stack,
)

pytestmark = pytest.mark.e2e

PLATFORM_ORDER = "SO2026092001"
OPENID = "oE2E_buyer_openid_0001"
WECHAT_TOKEN = DEV_PLATFORM_ENV["OMS_PLATFORM_WECHAT_TOKEN"]


@pytest.fixture
def aftersales_stack(
    tmp_path: Path, make_database_url: Callable[[str], str], redis_url: str
) -> Iterator[Stack]:
    running = start_stack(
        tmp_path / "var",
        make_database_url,
        redis_url,
        # Shop orders promise shipment 7.2 s after payment, so the test sees one pass.
        extra_env={
            "OMS_AFTERSALES_SHIP_PROMISE_HOURS_BY_PLATFORM": '{"shop": 0.002}',
            "OMS_AFTERSALES_TIMER_INTERVAL_SECONDS": "0.2",
        },
    )
    try:
        yield running
    finally:
        running.stop()


def tickets(stack: Stack, code: str) -> list[apb.Ticket]:
    with grpc.insecure_channel(stack.addr("aftersales")) as channel:
        stub = pb_grpc.AftersalesServiceStub(channel)
        reply = stub.ListTickets(pb.ListTicketsRequest(issue_code=code), timeout=5)
        return list(reply.tickets)


def get_order(stack: Stack) -> order_pb2.Order | None:
    with grpc.insecure_channel(stack.addr("orders")) as channel:
        try:
            return (
                orders_service_pb2_grpc.OrdersServiceStub(channel)
                .GetOrder(
                    orders_service_pb2.GetOrderRequest(
                        name=f"platforms/shop/orders/{PLATFORM_ORDER}"
                    ),
                    timeout=5,
                )
                .order
            )
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:  # not delivered yet
                return None
            raise


def post_wechat(stack: Stack, msg_id: str, content: str) -> httpx.Response:
    query, body = samples.wechat_text(WECHAT_TOKEN, msg_id=msg_id, openid=OPENID, content=content)
    return httpx.post(
        f"{stack.gateway_url}/webhooks/wechat?{query}",
        content=body,
        headers={"content-type": "text/xml"},
        timeout=10,
    )


def test_late_order_and_wechat_return_wish_become_tickets_with_a_profile(
    aftersales_stack: Stack,
) -> None:
    stack = aftersales_stack
    body, headers = signed_shop_push(
        PLATFORM_ORDER, [("CAP-RED", 1)], status="paid", buyer_id="buyer-e2e"
    )
    assert post_push(stack, body, headers).status_code == 202
    order = wait_until(lambda: get_order(stack), within=60, what="the order")

    late = wait_until(lambda: tickets(stack, "RTS-001"), within=60, what="an RTS-001 ticket")
    assert [t.order for t in late] == [order.name]  # type: ignore[union-attr]

    # The buyer writes on WeChat about the order, then wants to return it.
    assert (
        post_wechat(stack, "24602657863450001", f"订单 {PLATFORM_ORDER} 怎么还没发").status_code
        == 200
    )
    # The buyer waits for an answer before writing again: the first message (which names
    # the order, linking the openid to the buyer) is in aftersales before the second.
    # (Two messages of one customer delivered at once may be handled in either order.)
    wait_until(
        lambda: (
            [
                e["state"]
                for e in inbox_entries(stack, STACK_ADMIN_TOKEN, platform="wechat")
                if e["event_id"] == "24602657863450001"
            ]
            == ["DELIVERED"]
        ),
        within=60,
        what="the first WeChat message delivered",
    )
    assert post_wechat(stack, "24602657863450002", "这个不想要了，怎么退货").status_code == 200
    # A resent message (same MsgId) is recorded once.
    assert post_wechat(stack, "24602657863450002", "这个不想要了，怎么退货").status_code == 200

    returns = wait_until(lambda: tickets(stack, "RET-001"), within=60, what="a RET-001 ticket")
    assert [(t.order, t.channel) for t in returns] == [(order.name, apb.CHANNEL_WECHAT)]  # type: ignore[union-attr]

    with grpc.insecure_channel(stack.addr("aftersales")) as channel:
        stub = pb_grpc.AftersalesServiceStub(channel)
        profile = stub.GetCustomerProfile(
            pb.GetCustomerProfileRequest(customer=apb.CustomerIdentity(wechat_openid=OPENID)),
            timeout=5,
        ).profile
        shown = stub.GetTicket(pb.GetTicketRequest(name=returns[0].name), timeout=5)  # type: ignore[index]

    assert profile.name == "customers/buyer:shop:buyer-e2e"
    assert set(profile.recent_issue_codes) == {"RTS-001", "RET-001"}
    assert profile.order_count == 1 and profile.ticket_count == 2
    assert profile.last_mood != apb.MOOD_UNSPECIFIED
    assert profile.preferred_channel == apb.CHANNEL_WECHAT
    assert shown.profile.name == profile.name
    assert any("pre-accepted" in e.text for e in shown.thread)
