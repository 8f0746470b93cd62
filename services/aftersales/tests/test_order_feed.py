# ruff: noqa: RUF001 - buyers write Chinese punctuation; the messages keep it.
"""Order events from oms.orders (through the real consumer): a paid order not shipped by
its promised ship time gets one RTS-001 ticket; a shipped one gets none; the profile
counts the orders; a message quoting the order links to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio
from google.protobuf.timestamp_pb2 import Timestamp
from oms.events.v1.order_events_pb2 import OrderCreated, OrderStateChanged
from oms.orders.v1 import order_pb2
from oms.type.v1 import money_pb2, platform_pb2
from oms_aftersales.adapters.repository import TicketQuery
from oms_aftersales.bootstrap import Running, start
from oms_aftersales.config import Settings
from oms_aftersales.domain.customers import CustomerIdentity
from oms_aftersales.domain.errors import OrderNotKnownYet
from oms_aftersales.domain.ticket import Channel, TicketState
from oms_aftersales.service_layer.commands import CustomerMessage
from omslib.clock import FakeClock
from omslib.outbox import STREAM_ORDERS, build_envelope

T0 = datetime(2026, 9, 15, 2, 0, tzinfo=UTC)


def _ts(when: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


@pytest.fixture
async def service(
    make_database_url: Callable[[str], str], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Running, FakeClock, redis.asyncio.Redis]]:
    monkeypatch.setenv("OMS_AFTERSALES_PORT", "0")
    monkeypatch.setenv("OMS_AFTERSALES_HOST", "127.0.0.1")
    monkeypatch.setenv("OMS_AFTERSALES_DATABASE_URL", make_database_url("aftersales"))
    monkeypatch.setenv("OMS_REDIS_URL", redis_url)
    monkeypatch.setenv("OMS_AFTERSALES_SHIP_PROMISE_HOURS_BY_PLATFORM", '{"taobao": 24}')
    clock = FakeClock(T0)
    running = await start(Settings(), clock=clock, jobs=False)
    client = redis.asyncio.Redis.from_url(redis_url)
    await running.app.consumer.ensure_groups()
    yield running, clock, client
    await client.aclose()
    await running.stop()


async def _publish(
    client: redis.asyncio.Redis, payload: object, order_id: str, at: datetime
) -> None:
    envelope = build_envelope(
        payload,
        source="orders",
        aggregate_type="order",
        aggregate_id=order_id,
        occur_time=at,  # type: ignore[arg-type]
    )
    await client.xadd(STREAM_ORDERS, {"envelope": envelope.SerializeToString()})


def _paid_order(order_id: str, platform_order_id: str) -> OrderCreated:
    return OrderCreated(
        order=order_pb2.Order(
            order_id=order_id,
            platform=platform_pb2.PLATFORM_TAOBAO,
            platform_order_id=platform_order_id,
            state=order_pb2.ORDER_STATE_PAID,
            total=money_pb2.Money(minor_units=12_000, currency_code="CNY"),
            buyer=order_pb2.Buyer(id="tb-buyer-1"),
            create_time=_ts(T0),
            pay_time=_ts(T0),
        )
    )


async def _consume(running: Running) -> None:
    while await running.app.consumer.poll_once(block_ms=50):
        pass


async def test_paid_order_not_shipped_in_time_gets_one_rts_ticket(service) -> None:  # type: ignore[no-untyped-def]
    running, clock, client = service
    await _publish(client, _paid_order("O1", "TB1001"), "O1", T0)
    await _publish(client, _paid_order("O2", "TB1002"), "O2", T0)
    shipped = OrderStateChanged(
        order_id="O2",
        transition=order_pb2.StateTransition(
            from_state=order_pb2.ORDER_STATE_PAID,
            to_state=order_pb2.ORDER_STATE_SHIPPED,
            time=_ts(T0 + timedelta(hours=3)),
        ),
    )
    await _publish(client, shipped, "O2", T0)
    await _consume(running)

    clock.advance(timedelta(hours=23))
    await running.app.timers.run_once()
    assert not (await running.app.tickets.list_tickets(TicketQuery(states=["OPEN"]), 10, ""))[0]

    clock.advance(timedelta(hours=2))  # taobao: promised 24 h after payment
    await running.app.timers.run_once()
    await running.app.timers.run_once()

    tickets, _ = await running.app.tickets.list_tickets(TicketQuery(states=["OPEN"]), 10, "")
    assert [(t.issue_code, t.order_id, t.channel) for t in tickets] == [
        ("RTS-001", "O1", Channel.SYSTEM)
    ]
    view = await running.app.tickets.get(tickets[0].ticket_id)
    assert "TB1001" in view.thread[0].text


async def test_message_quoting_an_order_links_the_buyer(service) -> None:  # type: ignore[no-untyped-def]
    running, _, client = service
    await _publish(client, _paid_order("O1", "TB2001"), "O1", T0)
    await _consume(running)

    intake = await running.app.intake.record_message(
        CustomerMessage(
            "w1",
            Channel.WECHAT,
            "m",
            CustomerIdentity(wechat_openid="ow1"),
            "订单 TB2001 这个不想要了，怎么退货",
        )
    )
    assert intake.ticket.order_id == "O1"
    assert intake.ticket.customer_key == "buyer:taobao:tb-buyer-1"
    assert intake.customer.wechat_openid == "ow1"
    assert intake.ticket.issue_code == "RET-001"
    assert intake.ticket.state is TicketState.OPEN
    # The next WeChat message of the same openid lands with the buyer's order too.
    later = await running.app.intake.record_message(
        CustomerMessage("w2", Channel.WECHAT, "m", CustomerIdentity(wechat_openid="ow1"), "在吗")
    )
    assert later.ticket.ticket_id == intake.ticket.ticket_id


async def test_return_intent_in_a_later_message_opens_its_own_return_ticket(service) -> None:  # type: ignore[no-untyped-def]
    running, _, client = service
    await _publish(client, _paid_order("O1", "TB3001"), "O1", T0)
    await _consume(running)
    openid = CustomerIdentity(wechat_openid="ow2")
    first = await running.app.intake.record_message(
        CustomerMessage("w1", Channel.WECHAT, "m", openid, "订单 TB3001 能开发票吗")
    )

    wish = await running.app.intake.record_message(
        CustomerMessage("w2", Channel.WECHAT, "m", openid, "这个不想要了，怎么退货")
    )

    assert first.ticket.issue_code == "INV-001"
    assert wish.created and wish.ticket.issue_code == "RET-001"
    assert wish.ticket.order_id == "O1"  # the buyer's order, through the linked openid
    thread = (await running.app.tickets.get(wish.ticket.ticket_id)).thread
    assert any("pre-accepted" in e.text for e in thread)


async def test_a_platform_case_naming_only_its_order_finds_the_buyer_and_waits_for_it(
    service,
) -> None:  # type: ignore[no-untyped-def]
    # Douyin's and Shopify's after-sales pushes name the order, not the buyer.
    running, _, client = service
    case = CustomerMessage(
        "dy-case-1",
        Channel.PLATFORM_AFTERSALE,
        "m",
        CustomerIdentity(),
        "",
        platform="taobao",
        platform_order_id="TB3001",
        case_id="AS-1",
        case_kind="REFUND",
    )
    with pytest.raises(OrderNotKnownYet):  # retried by the gateway, never dropped
        await running.app.intake.record_message(case)

    await _publish(client, _paid_order("O3", "TB3001"), "O3", T0)
    await _consume(running)
    intake = await running.app.intake.record_message(case)
    assert intake.ticket.order_id == "O3"
    assert intake.ticket.customer_key == "buyer:taobao:tb-buyer-1"
