# ruff: noqa: RUF001 - buyers write Chinese punctuation; the messages keep it.
"""Tickets through the real gRPC server on a real database: intake, lifecycle, lists, profiles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.aftersales.v1 import aftersales_service_pb2_grpc as pb_grpc
from oms.type.v1 import platform_pb2
from oms_aftersales.bootstrap import Running, start
from oms_aftersales.config import Settings
from oms_aftersales.domain.classification import Classification
from omslib.clock import FakeClock

# Tuesday 10:00 in Shanghai: inside every calendar's working hours.
T0 = datetime(2026, 9, 15, 2, 0, tzinfo=UTC)


class KeywordModel:
    """A deterministic stand-in for the intent model."""

    def classify(self, text: str) -> Classification:
        if "退" in text:
            return Classification("return", "RET-001", "unhappy", 0.95)
        if "气死" in text:
            return Classification("complaint", "QLT-001", "angry", 0.9)
        return Classification("question", "GEN-001", "calm", 0.8)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def service(
    make_database_url: Callable[[str], str],
    redis_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[pb_grpc.AftersalesServiceStub, Running]]:
    monkeypatch.setenv("OMS_AFTERSALES_PORT", "0")
    monkeypatch.setenv("OMS_AFTERSALES_HOST", "127.0.0.1")
    monkeypatch.setenv("OMS_AFTERSALES_DATABASE_URL", make_database_url("aftersales"))
    monkeypatch.setenv("OMS_REDIS_URL", redis_url)
    running = await start(Settings(), clock=clock, classifier=KeywordModel(), jobs=False)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield pb_grpc.AftersalesServiceStub(channel), running
    await running.stop()


def wechat(
    request_id: str, text: str, openid: str = "o-buyer-1"
) -> pb.RecordCustomerMessageRequest:
    return pb.RecordCustomerMessageRequest(
        request_id=request_id,
        channel=apb.CHANNEL_WECHAT,
        merchant_id="m1",
        customer=apb.CustomerIdentity(wechat_openid=openid),
        text=text,
    )


async def test_intake_is_idempotent_by_request_id(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    first = await stub.RecordCustomerMessage(wechat("msg-1", "这个不想要了，怎么退货"))
    again = await stub.RecordCustomerMessage(wechat("msg-1", "这个不想要了，怎么退货"))

    assert first.ticket_created and not first.duplicate
    assert again.duplicate and again.ticket.ticket_id == first.ticket.ticket_id
    assert first.ticket.issue_code == "RET-001"
    assert first.ticket.mood == apb.MOOD_UNHAPPY
    listed = await stub.ListTickets(pb.ListTicketsRequest())
    assert [t.ticket_id for t in listed.tickets] == [first.ticket.ticket_id]
    got = await stub.GetTicket(pb.GetTicketRequest(name=first.ticket.name))
    customer_entries = [e for e in got.thread if e.kind == apb.THREAD_ENTRY_KIND_CUSTOMER]
    assert len(customer_entries) == 1
    assert any("pre-accepted" in e.text for e in got.thread)


async def test_later_message_is_a_thread_entry_and_resumes_the_clock(service, clock) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    opened = await stub.RecordCustomerMessage(wechat("msg-1", "请问什么时候到"))
    name = opened.ticket.name
    await stub.PauseTicket(pb.PauseTicketRequest(name=name, operator="alice", reason="asked"))
    clock.advance(timedelta(minutes=30))

    later = await stub.RecordCustomerMessage(wechat("msg-2", "订单号是 123456789"))

    assert not later.ticket_created and later.ticket.ticket_id == opened.ticket.ticket_id
    assert later.ticket.state == apb.TICKET_STATE_OPEN
    assert len(later.ticket.sla.paused_intervals) == 1
    assert later.ticket.sla.paused_intervals[0].HasField("end_time")
    # Due 12:00 Shanghai before the pause; 30 minutes later, across the 12:00-13:00 break.
    assert opened.ticket.sla.first_response_due_time.ToDatetime(tzinfo=UTC) == T0 + timedelta(
        hours=2
    )
    assert later.ticket.sla.first_response_due_time.ToDatetime(tzinfo=UTC) == T0 + timedelta(
        hours=3, minutes=30
    )


async def test_lifecycle_reply_resolve_reopen_close_with_audit(service, clock) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    t = (await stub.RecordCustomerMessage(wechat("m1", "你好"))).ticket
    await stub.AssignTicket(pb.AssignTicketRequest(name=t.name, assignee="alice", operator="lead"))
    replied = await stub.ReplyToTicket(
        pb.ReplyToTicketRequest(name=t.name, template="hello", operator="alice", request_id="r1")
    )
    assert replied.entry.text == "您好，我是客服 alice，很高兴为您服务。"
    assert replied.ticket.sla.HasField("first_response_time")
    assert not replied.ticket.sla.HasField("first_response_due_time")
    resolved = await stub.ResolveTicket(
        pb.ResolveTicketRequest(name=t.name, resolution="answered", operator="alice")
    )
    assert resolved.ticket.first_contact_resolution
    reopened = await stub.ReopenTicket(pb.ReopenTicketRequest(name=t.name, operator="alice"))
    assert reopened.ticket.state == apb.TICKET_STATE_REOPENED
    assert not reopened.ticket.first_contact_resolution
    await stub.ResolveTicket(pb.ResolveTicketRequest(name=t.name, operator="alice"))
    closed = await stub.CloseTicket(pb.CloseTicketRequest(name=t.name, operator="alice"))
    assert closed.ticket.state == apb.TICKET_STATE_CLOSED

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ReopenTicket(pb.ReopenTicketRequest(name=t.name, operator="alice"))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    got = await stub.GetTicket(pb.GetTicketRequest(name=t.name))
    assert [a.action for a in got.audit] == [
        "opened",
        "assigned",
        "replied",
        "resolved",
        "reopened",
        "resolved",
        "closed",
    ]
    # A message after closing opens a new ticket.
    again = await stub.RecordCustomerMessage(wechat("m2", "还有个问题"))
    assert again.ticket_created and again.ticket.ticket_id != t.ticket_id


async def test_priority_change_and_reclassify_recompute_deadlines(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    t = (await stub.RecordCustomerMessage(wechat("m1", "你好"))).ticket
    urgent = await stub.ChangeTicketPriority(
        pb.ChangeTicketPriorityRequest(name=t.name, priority=apb.PRIORITY_URGENT, operator="lead")
    )
    assert urgent.ticket.sla.first_response_due_time.ToDatetime() < (
        t.sla.first_response_due_time.ToDatetime()
    )
    moved = await stub.ReclassifyTicket(
        pb.ReclassifyTicketRequest(name=t.name, issue_code="WRG-001", operator="lead")
    )
    assert moved.ticket.department == "warehouse" and moved.ticket.classified_by == "agent"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ReclassifyTicket(
            pb.ReclassifyTicketRequest(name=t.name, issue_code="NOPE-1", operator="lead")
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_list_is_sorted_by_nearest_deadline_and_paged(service, clock) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    slow = (
        await stub.RecordCustomerMessage(wechat("a", "要发票", openid="o-a"))
    ).ticket  # INV-001, LOW
    fast = (
        await stub.RecordCustomerMessage(wechat("b", "东西坏了", openid="o-b"))
    ).ticket  # DMG-001, HIGH
    mid = (await stub.RecordCustomerMessage(wechat("c", "你好", openid="o-c"))).ticket

    page1 = await stub.ListTickets(pb.ListTicketsRequest(page_size=2))
    page2 = await stub.ListTickets(
        pb.ListTicketsRequest(page_size=2, page_token=page1.next_page_token)
    )

    order = [t.ticket_id for t in [*page1.tickets, *page2.tickets]]
    assert order == [fast.ticket_id, mid.ticket_id, slow.ticket_id]
    assert page2.next_page_token == ""


async def test_bad_input_is_refused_and_stores_nothing(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    bad = [
        wechat("", "hi"),
        wechat("x" * 200, "hi"),
        wechat("m", ""),
        wechat("m", "x" * 5000),
        pb.RecordCustomerMessageRequest(request_id="m", channel=apb.CHANNEL_WECHAT, text="hi"),
        pb.RecordCustomerMessageRequest(
            request_id="m", customer=apb.CustomerIdentity(phone="13800000000"), text="hi"
        ),
        pb.RecordCustomerMessageRequest(
            request_id="m",
            channel=apb.CHANNEL_PHONE,
            customer=apb.CustomerIdentity(phone="not a phone"),
            text="hi",
        ),
    ]
    for request in bad:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.RecordCustomerMessage(request)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not (await stub.ListTickets(pb.ListTicketsRequest())).tickets


async def test_platform_case_messages_share_one_ticket(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service

    def case(rid: str, text: str) -> pb.RecordCustomerMessageRequest:
        return pb.RecordCustomerMessageRequest(
            request_id=rid,
            channel=apb.CHANNEL_PLATFORM_AFTERSALE,
            customer=apb.CustomerIdentity(platform=platform_pb2.PLATFORM_TAOBAO, buyer_id="tb1"),
            text=text,
            platform_case=apb.PlatformCase(case_id="RF-1", kind=apb.PLATFORM_CASE_KIND_DISPUTE),
        )

    a = await stub.RecordCustomerMessage(case("e1", "买家发起维权"))
    b = await stub.RecordCustomerMessage(case("e2", "买家补充凭证"))
    assert a.ticket.issue_code == "DSP-001" and a.ticket.priority == apb.PRIORITY_URGENT
    assert b.ticket.ticket_id == a.ticket.ticket_id and not b.ticket_created


async def test_profile_shows_tickets_channels_and_mood(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    await stub.RecordCustomerMessage(wechat("m1", "你好"))
    t = (await stub.RecordCustomerMessage(wechat("m2", "气死了，质量太差"))).ticket

    got = await stub.GetTicket(pb.GetTicketRequest(name=t.name))
    profile = (
        await stub.GetCustomerProfile(
            pb.GetCustomerProfileRequest(customer=apb.CustomerIdentity(wechat_openid="o-buyer-1"))
        )
    ).profile

    assert got.profile.name == profile.name == "customers/wechat:o-buyer-1"
    assert profile.ticket_count == 1  # both messages joined one open ticket
    assert profile.last_mood == apb.MOOD_ANGRY
    assert profile.preferred_channel == apb.CHANNEL_WECHAT
    assert profile.channels[0].message_count == 2


async def test_an_unknown_refund_is_not_found(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetRefund(pb.GetRefundRequest(name="refunds/1"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_concurrent_duplicates_open_one_ticket(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    replies = await asyncio.gather(
        *(stub.RecordCustomerMessage(wechat("same-msg", "东西坏了")) for _ in range(5))
    )

    assert len({r.ticket.ticket_id for r in replies}) == 1
    assert sum(r.ticket_created for r in replies) == 1
    assert sum(r.duplicate for r in replies) == 4
    got = await stub.GetTicket(pb.GetTicketRequest(name=replies[0].ticket.name))
    assert len(got.thread) == 1
