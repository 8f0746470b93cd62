"""Every after-sales intake channel against the real gateway, database and a real grpc.aio
AftersalesService that records what it gets: a verified message is stored before the 2xx
and delivered to aftersales; a forged one is 401 and stores nothing; a duplicate is one
entry; a malformed one is 4xx naming the problem and stores nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
import pytest
from oms.aftersales.v1 import aftersales_pb2, aftersales_service_pb2, aftersales_service_pb2_grpc
from oms.type.v1 import platform_pb2
from oms_gateway.bootstrap import Running
from oms_gateway.platforms import douyin
from oms_gateway.platforms.common import format_china_time
from oms_gateway.testing import aftersales_samples as samples
from omslib.errors import DomainError
from omslib.grpc_server import GrpcService

Kit = Any
KEY = "app-key-123"
SECRET = "s3cret-for-tests"
WECHAT_TOKEN = "wechatToken42"
FORM_TOKEN = "form-token-of-acme-0001"
AFTERSALES_SERVICE = "oms.aftersales.v1.AftersalesService"
ENV = {
    "OMS_PLATFORM_SHOPIFY_SECRET": SECRET,
    "OMS_PLATFORM_DOUYIN_KEY": KEY,
    "OMS_PLATFORM_DOUYIN_SECRET": SECRET,
    "OMS_PLATFORM_YOUZAN_ID": KEY,
    "OMS_PLATFORM_YOUZAN_SECRET": SECRET,
    "OMS_PLATFORM_TAOBAO_KEY": KEY,
    "OMS_PLATFORM_TAOBAO_SECRET": SECRET,
    "OMS_PLATFORM_JD_KEY": KEY,
    "OMS_PLATFORM_JD_SECRET": SECRET,
    "OMS_PLATFORM_WECHAT_TOKEN": WECHAT_TOKEN,
    "OMS_FORM_TOKENS": json.dumps({"acme": FORM_TOKEN}),
    "OMS_FORM_MAX_BODY_BYTES": 8192,
}
P = platform_pb2
C = aftersales_pb2
WHEN = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


class RecordingAftersales(aftersales_service_pb2_grpc.AftersalesServiceServicer):
    """Answers RecordCustomerMessage like aftersales would (one ticket per case or customer,
    idempotent by (channel, request_id)) and records the calls. ``fail`` is raised if set."""

    def __init__(self) -> None:
        self.calls: list[aftersales_service_pb2.RecordCustomerMessageRequest] = []
        self.fail: DomainError | None = None
        self._seen: dict[tuple[int, str], str] = {}
        self._tickets: dict[str, str] = {}

    async def RecordCustomerMessage(
        self,
        request: aftersales_service_pb2.RecordCustomerMessageRequest,
        context: grpc.aio.ServicerContext,
    ) -> aftersales_service_pb2.RecordCustomerMessageResponse:
        self.calls.append(request)
        if self.fail is not None:
            raise self.fail
        key = (request.channel, request.request_id)
        if key in self._seen:
            ticket = aftersales_pb2.Ticket(ticket_id=self._seen[key])
            return aftersales_service_pb2.RecordCustomerMessageResponse(
                ticket=ticket, duplicate=True
            )
        thread = request.platform_case.case_id or request.customer.SerializeToString().hex()
        created = thread not in self._tickets
        ticket_id = self._tickets.setdefault(thread, f"tkt-{len(self._tickets) + 1}")
        self._seen[key] = ticket_id
        return aftersales_service_pb2.RecordCustomerMessageResponse(
            ticket=aftersales_pb2.Ticket(ticket_id=ticket_id), ticket_created=created
        )


@pytest.fixture
async def aftersales() -> AsyncIterator[RecordingAftersales]:
    servicer = RecordingAftersales()
    service = GrpcService(
        name="fake-aftersales", host="127.0.0.1", port=0, error_domain="aftersales.oms"
    )
    service.add(
        aftersales_service_pb2_grpc.add_AftersalesServiceServicer_to_server,
        servicer,
        AFTERSALES_SERVICE,
    )
    await service.start()
    servicer.port = service.bound_port  # type: ignore[attr-defined]
    yield servicer
    await service.stop(0)


@pytest.fixture
async def gateway(
    make_gateway: Any, orders: Any, aftersales: RecordingAftersales, shop_secret: str
) -> Running:
    service, _ = orders
    return await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        shop_secret,
        OMS_AFTERSALES_ADDR=f"127.0.0.1:{aftersales.port}",  # type: ignore[attr-defined]
        **ENV,
    )


@dataclass(frozen=True)
class Message:
    """One channel's message as sent, and what aftersales must get from it."""

    path: str
    body: bytes
    headers: dict[str, str]
    event_id: str
    channel: int
    request_id: str
    platform: int = P.PLATFORM_UNSPECIFIED
    platform_order_id: str = ""
    case_id: str = ""
    case_kind: int = C.PLATFORM_CASE_KIND_UNSPECIFIED


@dataclass(frozen=True)
class Channel:
    name: str
    #: (n, secret) -> a message signed with ``secret`` (a wrong one forges it).
    build: Callable[[int, str], Message]
    #: The answer's status for a new message (the platform's own convention).
    accepted: int = 202


def taobao(n: int, secret: str) -> Message:
    query, body, headers = samples.taobao_refund(
        KEY, secret, message_id=7000 + n, refund_id=f"RF{n}", tid=f"39{n:014d}"
    )
    return Message(
        f"/webhooks/taobao?{query}",
        body,
        headers,
        str(7000 + n),
        C.CHANNEL_PLATFORM_AFTERSALE,
        f"taobao:{7000 + n}",
        P.PLATFORM_TAOBAO,
        f"39{n:014d}",
        f"RF{n}",
        C.PLATFORM_CASE_KIND_REFUND,
    )


def jd(n: int, secret: str) -> Message:
    body, headers = samples.jd_afs(
        KEY, secret, afs_service_id=500000 + n, order_id=f"25{n:010d}", when=WHEN
    )
    compact = "".join(ch for ch in format_china_time(WHEN) if ch.isdigit())
    event = f"afs:{500000 + n}:10:{compact}"
    return Message(
        "/webhooks/jd",
        body,
        headers,
        event,
        C.CHANNEL_PLATFORM_AFTERSALE,
        f"jd:{event}",
        P.PLATFORM_JD,
        f"25{n:010d}",
        str(500000 + n),
        C.PLATFORM_CASE_KIND_RETURN,
    )


def douyin_as(n: int, secret: str) -> Message:
    message = samples.douyin_aftersale_message(
        f"as-{n}", aftersale_id=7100 + n, order_id=f"69{n:017d}"
    )
    body, headers = douyin.sample_push(KEY, secret, [message])
    return Message(
        "/webhooks/douyin",
        body,
        headers,
        f"as-{n}",
        C.CHANNEL_PLATFORM_AFTERSALE,
        f"douyin:as-{n}",
        P.PLATFORM_DOUYIN,
        f"69{n:017d}",
        str(7100 + n),
        C.PLATFORM_CASE_KIND_RETURN,
    )


def youzan(n: int, secret: str) -> Message:
    body, headers = samples.youzan_refund(
        KEY, secret, tid=f"E2026{n:016d}", refund_id=f"2019{n:011d}"
    )
    envelope = json.loads(body)
    event = f"{envelope['type']}:{envelope['id']}:{envelope['version']}"
    return Message(
        "/webhooks/youzan",
        body,
        headers,
        event,
        C.CHANNEL_PLATFORM_AFTERSALE,
        f"youzan:{event}",
        P.PLATFORM_YOUZAN,
        f"E2026{n:016d}",
        f"2019{n:011d}",
        C.PLATFORM_CASE_KIND_RETURN,
    )


def shopify_refund(n: int, secret: str) -> Message:
    body, headers = samples.shopify_refund(
        secret, webhook_id=f"wh-r{n}", refund_id=9000 + n, order_id=450789469
    )
    return Message(
        "/webhooks/shopify",
        body,
        headers,
        f"wh-r{n}",
        C.CHANNEL_PLATFORM_AFTERSALE,
        f"shopify:wh-r{n}",
        P.PLATFORM_SHOPIFY,
        "450789469",
        str(9000 + n),
        C.PLATFORM_CASE_KIND_REFUND,
    )


def shopify_dispute(n: int, secret: str) -> Message:
    body, headers = samples.shopify_dispute(secret, webhook_id=f"wh-d{n}", dispute_id=8000 + n)
    return Message(
        "/webhooks/shopify",
        body,
        headers,
        f"wh-d{n}",
        C.CHANNEL_PLATFORM_AFTERSALE,
        f"shopify:wh-d{n}",
        P.PLATFORM_SHOPIFY,
        "450789469",
        str(8000 + n),
        C.PLATFORM_CASE_KIND_DISPUTE,
    )


def wechat(n: int, token: str) -> Message:
    query, body = samples.wechat_text(token, msg_id=f"2460265786345{n:04d}")
    return Message(
        f"/webhooks/wechat?{query}",
        body,
        {"content-type": "text/xml"},
        f"2460265786345{n:04d}",
        C.CHANNEL_WECHAT,
        f"wechat:2460265786345{n:04d}",
    )


def form(n: int, token: str) -> Message:
    sid = f"sub-{n:04d}-abcdef"
    return Message(
        "/forms/acme/tickets",
        samples.ticket_form(sid),
        {"content-type": "application/json", "x-oms-form-token": token},
        f"acme:{sid}",
        C.CHANNEL_WEB_FORM,
        f"form:acme:{sid}",
        P.PLATFORM_TAOBAO,
        "3900000000000001",
    )


CHANNELS = [
    Channel("taobao-refund", taobao, 200),
    Channel("jd-afs", jd),
    Channel("douyin-aftersale", douyin_as, 200),
    Channel("youzan-refund", youzan, 200),
    Channel("shopify-refund", shopify_refund),
    Channel("shopify-dispute", shopify_dispute),
    Channel("wechat", wechat, 200),
    Channel("web-form", form),
]
SECRETS = {"wechat": WECHAT_TOKEN, "web-form": FORM_TOKEN}
WRONG = {"wechat": "anotherToken9", "web-form": "not-the-form-token-0001"}


def build(channel: Channel, n: int, *, forged: bool = False) -> Message:
    secrets = WRONG if forged else SECRETS
    return channel.build(n, secrets.get(channel.name, "wrong-secret" if forged else SECRET))


async def send(client: httpx.AsyncClient, message: Message) -> httpx.Response:
    return await client.post(message.path, content=message.body, headers=message.headers)


def inbox_platform(message: Message) -> str:
    return (
        message.path.split("/")[2].split("?")[0] if message.path.startswith("/webhooks") else "form"
    )


@pytest.mark.parametrize("channel", CHANNELS, ids=[c.name for c in CHANNELS])
async def test_message_is_stored_before_the_answer_then_delivered_to_aftersales(
    client: httpx.AsyncClient,
    gateway: Running,
    aftersales: RecordingAftersales,
    orders: Any,
    kit: Kit,
    channel: Channel,
) -> None:
    message = build(channel, 1)
    response = await send(client, message)
    assert response.status_code == channel.accepted, response.text
    (row,) = await kit.inbox_rows(gateway)
    assert (row.platform, row.event_id) == (inbox_platform(message), message.event_id)
    assert response.headers["x-oms-inbox-id"] == row.id

    async def delivered() -> bool:
        return [r.state for r in await kit.inbox_rows(gateway)] == ["DELIVERED"]

    await kit.eventually(delivered, what="DELIVERED")
    (call,) = aftersales.calls
    assert (call.channel, call.request_id) == (message.channel, message.request_id)
    assert (call.platform_order.platform, call.platform_order.platform_order_id) == (
        message.platform,
        message.platform_order_id,
    )
    assert (call.platform_case.case_id, call.platform_case.kind) == (
        message.case_id,
        message.case_kind,
    )
    assert call.HasField("message_time")
    (row,) = await kit.inbox_rows(gateway)
    assert (row.order_id, row.outcome) == ("tkt-1", "TICKET_OPENED")
    _, recorder = orders
    assert recorder.calls == []  # nothing of it went to orders


@pytest.mark.parametrize("channel", CHANNELS, ids=[c.name for c in CHANNELS])
async def test_forged_message_is_401_and_nothing_is_stored(
    client: httpx.AsyncClient, gateway: Running, kit: Kit, channel: Channel
) -> None:
    response = await send(client, build(channel, 1, forged=True))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["reason"] == "INVALID_SIGNATURE"
    assert await kit.inbox_rows(gateway) == []


@pytest.mark.parametrize("channel", CHANNELS, ids=[c.name for c in CHANNELS])
async def test_duplicate_message_is_one_entry_and_one_delivery(
    client: httpx.AsyncClient,
    gateway: Running,
    aftersales: RecordingAftersales,
    kit: Kit,
    channel: Channel,
) -> None:
    message = build(channel, 2)
    first = await send(client, message)
    again = await send(client, message)
    assert (first.status_code, again.status_code) == (channel.accepted, 200)
    assert again.headers["x-oms-inbox-id"] == first.headers["x-oms-inbox-id"]
    assert len(await kit.inbox_rows(gateway)) == 1

    async def delivered() -> bool:
        return [r.state for r in await kit.inbox_rows(gateway)] == ["DELIVERED"]

    await kit.eventually(delivered, what="DELIVERED")
    assert [call.request_id for call in aftersales.calls] == [message.request_id]
