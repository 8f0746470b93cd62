"""Every after-sales intake channel against the real gateway, database and a real grpc.aio
AftersalesService that records what it gets: a verified message is stored before the 2xx
and delivered to aftersales; a forged one is 401 and stores nothing; a duplicate is one
entry; a malformed one is 4xx naming the problem and stores nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import grpc
import httpx
import pytest
from oms.aftersales.v1 import aftersales_pb2, aftersales_service_pb2, aftersales_service_pb2_grpc
from oms.type.v1 import platform_pb2
from oms_cli.commands.send_aftersales import AFTERSALES_KINDS, build_aftersales_push
from oms_cli.stack import DEV_PLATFORM_ENV
from oms_gateway.bootstrap import Running
from omslib.errors import DomainError, InvalidArgument, Unavailable
from omslib.grpc_server import GrpcService
from omslib.ids import new_id
from omslib.platforms.china_time import format_china_time
from omslib.platforms.samples import aftersales as samples
from omslib.platforms.samples import douyin as douyin_samples
from omslib.platforms.samples import shopify as shopify_samples
from omslib.platforms.samples import taobao as taobao_samples
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

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
        self.refunds: list[aftersales_service_pb2.RecordPlatformRefundRequest] = []
        self.fail: DomainError | None = None
        self.fail_refunds: DomainError | None = None
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
        ticket_id = self._tickets.setdefault(thread, f"tkt{len(self._tickets) + 1}")
        self._seen[key] = ticket_id
        return aftersales_service_pb2.RecordCustomerMessageResponse(
            ticket=aftersales_pb2.Ticket(ticket_id=ticket_id), ticket_created=created
        )

    async def RecordPlatformRefund(
        self,
        request: aftersales_service_pb2.RecordPlatformRefundRequest,
        context: grpc.aio.ServicerContext,
    ) -> aftersales_service_pb2.RecordPlatformRefundResponse:
        self.refunds.append(request)
        if self.fail_refunds is not None:
            raise self.fail_refunds
        seen = [r.platform_refund_id for r in self.refunds].count(request.platform_refund_id)
        return aftersales_service_pb2.RecordPlatformRefundResponse(
            refund=aftersales_pb2.Refund(name="refunds/R1"), duplicate=seen > 1
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
    body, headers = douyin_samples.sample_push(KEY, secret, [message])
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
    assert (row.order_id, row.outcome) == ("tkt1", "TICKET_OPENED")
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


# --- malformed and oversize bodies ---------------------------------------------------------


def taobao_without_refund_id() -> Message:
    message = taobao(3, SECRET)
    envelope = json.loads(message.body)
    content = json.loads(envelope["content"])
    del content["refund_id"]
    envelope["content"] = json.dumps(content)
    body = json.dumps(envelope).encode()
    query = taobao_samples.signed_query(KEY, SECRET, body, method="taobao.qimen.refund.push")
    return Message(f"/webhooks/taobao?{query}", body, message.headers, "", 0, "")


def shopify_refund_without_order() -> Message:
    body = json.dumps({"id": 5, "created_at": "2026-11-24T10:00:00Z"}).encode()
    headers = shopify_samples.signed_headers(
        SECRET, body, webhook_id="wh-x", topic="refunds/create"
    )
    return Message("/webhooks/shopify", body, headers, "", 0, "")


def douyin_without_order() -> Message:
    item = samples.douyin_aftersale_message("as-bad")
    data = json.loads(item["data"])
    del data["p_id"]
    item["data"] = json.dumps(data)
    body, headers = douyin_samples.sample_push(KEY, SECRET, [item])
    return Message("/webhooks/douyin", body, headers, "", 0, "")


def wechat_body(body: bytes) -> Message:
    query = urlencode(samples.wechat_query(WECHAT_TOKEN))
    return Message(f"/webhooks/wechat?{query}", body, {"content-type": "text/xml"}, "", 0, "")


def form_body(body: bytes) -> Message:
    headers = {"content-type": "application/json", "x-oms-form-token": FORM_TOKEN}
    return Message("/forms/acme/tickets", body, headers, "", 0, "")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<xml><Content>&lol2;</Content></xml>"
)
MALFORMED = {
    "taobao-content-without-refund-id": (taobao_without_refund_id, "content.refund_id"),
    "shopify-refund-without-order": (shopify_refund_without_order, "order_id"),
    "douyin-aftersale-without-order": (douyin_without_order, "0.data.p_id"),
    "wechat-not-xml": (lambda: wechat_body(b"{not xml"), "not well-formed XML"),
    "wechat-entities": (lambda: wechat_body(BILLION_LAUGHS), "DOCTYPE"),
    "wechat-without-msgid": (
        lambda: wechat_body(
            b"<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName>"
            b"<CreateTime>1764000000</CreateTime><MsgType>text</MsgType>"
            b"<Content>hi</Content></xml>"
        ),
        "MsgId",
    ),
    "form-not-json": (lambda: form_body(b"name=x"), "not valid JSON"),
    "form-without-phone": (
        lambda: form_body(
            json.dumps({"submission_id": "sub-00001", "text": "where is it"}).encode()
        ),
        "phone",
    ),
    "form-text-too-long": (lambda: form_body(samples.ticket_form(text="x" * 4001)), "text"),
    "form-unknown-field": (lambda: form_body(samples.ticket_form(admin="yes")), "admin"),
    "form-unknown-platform": (lambda: form_body(samples.ticket_form(platform="ebay")), "platform"),
}


@pytest.mark.parametrize(("make", "named"), MALFORMED.values(), ids=list(MALFORMED))
async def test_malformed_message_is_400_naming_the_problem_and_nothing_is_stored(
    client: httpx.AsyncClient,
    gateway: Running,
    kit: Kit,
    make: Callable[[], Message],
    named: str,
) -> None:
    response = await send(client, make())
    assert response.status_code == 400, response.text
    assert named in response.json()["error"]["message"]
    assert await kit.inbox_rows(gateway) == []


@pytest.mark.parametrize(
    "message",
    [
        wechat_body(b"<xml><Content>" + b"x" * 70_000 + b"</Content></xml>"),
        form_body(samples.ticket_form(text="x" * 9000)),
    ],
    ids=["wechat", "web-form"],
)
async def test_oversize_message_is_413_and_nothing_is_stored(
    client: httpx.AsyncClient, gateway: Running, kit: Kit, message: Message
) -> None:
    response = await send(client, message)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["reason"] == "PAYLOAD_TOO_LARGE"
    assert await kit.inbox_rows(gateway) == []


# --- WeChat --------------------------------------------------------------------------------


async def test_wechat_url_check_answers_echostr_only_when_signed(
    client: httpx.AsyncClient,
) -> None:
    signed = {**samples.wechat_query(WECHAT_TOKEN), "echostr": "5838479218127813673"}
    answer = await client.get("/webhooks/wechat", params=signed)
    assert (answer.status_code, answer.text) == (200, "5838479218127813673")
    assert answer.headers["content-type"].startswith("text/plain")

    forged = {**samples.wechat_query("anotherToken9"), "echostr": "5838479218127813673"}
    refused = await client.get("/webhooks/wechat", params=forged)
    assert refused.status_code == 401
    assert "5838479218127813673" not in refused.text


async def test_wechat_message_is_answered_with_plain_success(
    client: httpx.AsyncClient, gateway: Running
) -> None:
    response = await send(client, wechat(5, WECHAT_TOKEN))
    assert (response.status_code, response.text) == (200, "success")


async def test_wechat_stale_timestamp_is_401(client: httpx.AsyncClient, gateway: Running) -> None:
    query = urlencode(samples.wechat_query(WECHAT_TOKEN, timestamp=1_700_000_000))
    _, body = samples.wechat_text(WECHAT_TOKEN)
    response = await send(client, Message(f"/webhooks/wechat?{query}", body, {}, "", 0, ""))
    assert response.status_code == 401
    assert response.json()["error"]["reason"] == "STALE_TIMESTAMP"


async def test_wechat_safe_mode_is_refused_naming_plaintext_mode(
    client: httpx.AsyncClient, gateway: Running, kit: Kit
) -> None:
    message = wechat(6, WECHAT_TOKEN)
    response = await send(
        client, replace(message, path=f"{message.path}&encrypt_type=aes&msg_signature=x")
    )
    assert response.status_code == 400
    assert "plaintext" in response.json()["error"]["message"]
    assert await kit.inbox_rows(gateway) == []


async def test_wechat_event_is_stored_once_and_opens_no_ticket(
    client: httpx.AsyncClient, gateway: Running, aftersales: RecordingAftersales, kit: Kit
) -> None:
    event = (
        b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]>"
        b"</FromUserName><CreateTime>1764000000</CreateTime><MsgType><![CDATA[event]]>"
        b"</MsgType><Event><![CDATA[subscribe]]></Event></xml>"
    )
    first = await send(client, wechat_body(event))
    again = await send(client, wechat_body(event))
    assert (first.text, again.text) == ("success", "success")
    (row,) = await kit.inbox_rows(gateway)
    assert row.event_id == "o1:1764000000:subscribe"

    async def delivered() -> bool:
        return [r.state for r in await kit.inbox_rows(gateway)] == ["DELIVERED"]

    await kit.eventually(delivered, what="DELIVERED")
    assert aftersales.calls == []


async def test_wechat_without_a_token_is_503_naming_the_variable(
    make_gateway: Any, orders: Any
) -> None:
    service, _ = orders
    running = await make_gateway(f"127.0.0.1:{service.bound_port}", None)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        message = wechat(7, WECHAT_TOKEN)
        response = await send(http, message)
        echo = await http.get("/webhooks/wechat", params=samples.wechat_query(WECHAT_TOKEN))
    for answer in (response, echo):
        assert answer.status_code == 503
        assert "OMS_PLATFORM_WECHAT_TOKEN" in answer.json()["error"]["message"]


# --- web form ------------------------------------------------------------------------------


async def test_form_token_of_another_merchant_is_401(
    client: httpx.AsyncClient, gateway: Running, kit: Kit
) -> None:
    message = form(8, FORM_TOKEN)
    for path in ("/forms/other/tickets", "/forms/ACME/tickets"):
        response = await send(client, replace(message, path=path))
        assert response.status_code == 401, response.text
    missing = await send(client, replace(message, headers={"content-type": "application/json"}))
    assert missing.json()["error"]["reason"] == "MISSING_SIGNATURE_HEADERS"
    assert await kit.inbox_rows(gateway) == []


async def test_form_token_is_not_stored_and_the_contact_reaches_the_ticket(
    client: httpx.AsyncClient, gateway: Running, aftersales: RecordingAftersales, kit: Kit
) -> None:
    response = await send(client, form(9, FORM_TOKEN))
    assert response.json()["submission_id"] == "sub-0009-abcdef"
    (row,) = await kit.inbox_rows(gateway)
    assert FORM_TOKEN not in json.dumps(row.headers)
    assert row.headers["x-oms-form-merchant"] == "acme"

    async def recorded() -> bool:
        return len(aftersales.calls) == 1

    await kit.eventually(recorded, what="the aftersales call")
    (call,) = aftersales.calls
    assert (call.merchant_id, call.customer.phone) == ("acme", "+8613800000000")
    assert "快递三天没动了" in call.text and "lilei@example.com" in call.text


async def test_form_over_the_merchants_rate_is_429_with_retry_after(
    make_gateway: Any, orders: Any, aftersales: RecordingAftersales, kit: Kit
) -> None:
    service, _ = orders
    merchant = f"rl-{new_id().lower()}"  # a bucket of its own in the shared Redis
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        None,
        OMS_AFTERSALES_ADDR=f"127.0.0.1:{aftersales.port}",  # type: ignore[attr-defined]
        OMS_FORM_TOKENS=json.dumps({merchant: FORM_TOKEN}),
        OMS_FORM_RATE_LIMIT="0.01:2",
    )
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        answers = [
            await send(http, replace(form(n, FORM_TOKEN), path=f"/forms/{merchant}/tickets"))
            for n in range(10, 13)
        ]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert int(answers[2].headers["retry-after"]) >= 1
    assert len(await kit.inbox_rows(running)) == 2


# --- delivery ------------------------------------------------------------------------------


async def test_aftersales_outage_is_retried_until_it_answers(
    client: httpx.AsyncClient, gateway: Running, aftersales: RecordingAftersales, kit: Kit
) -> None:
    aftersales.fail = Unavailable("aftersales is restarting")
    await send(client, wechat(20, WECHAT_TOKEN))

    async def retried() -> bool:
        return len(aftersales.calls) >= 2

    await kit.eventually(retried, what="a second attempt")
    aftersales.fail = None

    async def delivered() -> bool:
        return [r.state for r in await kit.inbox_rows(gateway)] == ["DELIVERED"]

    await kit.eventually(delivered, what="DELIVERED")
    (row,) = await kit.inbox_rows(gateway)
    assert row.attempts >= 3
    assert len({call.request_id for call in aftersales.calls}) == 1  # the same id each time


async def test_message_aftersales_refuses_is_dead_lettered_at_once(
    client: httpx.AsyncClient, gateway: Running, aftersales: RecordingAftersales, kit: Kit
) -> None:
    aftersales.fail = InvalidArgument("customer: no identity", reason="INVALID_CUSTOMER")
    await send(client, shopify_refund(21, SECRET))

    async def dead() -> bool:
        return [r.state for r in await kit.inbox_rows(gateway)] == ["DEAD"]

    await kit.eventually(dead, what="DEAD")
    (row,) = await kit.inbox_rows(gateway)
    assert row.attempts == 1
    assert "AFTERSALES_REJECTED" in row.last_error and "INVALID_CUSTOMER" in row.last_error


async def test_douyin_batch_sends_orders_to_orders_and_aftersales_to_aftersales(
    client: httpx.AsyncClient,
    gateway: Running,
    orders: Any,
    aftersales: RecordingAftersales,
    kit: Kit,
) -> None:
    order = douyin_samples.sample_order_data("6900000000000000201", [("SKU-1", 1)])
    body, headers = douyin_samples.sample_push(
        KEY,
        SECRET,
        [
            douyin_samples.sample_message("m-order", order),
            samples.douyin_aftersale_message("m-refund", order_id="6900000000000000201"),
        ],
    )
    response = await client.post("/webhooks/douyin", content=body, headers=headers)
    assert response.status_code == 200
    assert sorted(r.event_id for r in await kit.inbox_rows(gateway)) == ["m-order", "m-refund"]

    async def delivered() -> bool:
        return {r.state for r in await kit.inbox_rows(gateway)} == {"DELIVERED"}

    await kit.eventually(delivered, what="both DELIVERED")
    _, recorder = orders
    assert recorder.request_ids() == ["douyin:m-order"]
    assert [call.request_id for call in aftersales.calls] == ["douyin:m-refund"]


@pytest.mark.parametrize(
    ("make", "route"),
    [
        (lambda: wechat(22, WECHAT_TOKEN), "POST /webhooks/{platform}"),
        (lambda: form(22, FORM_TOKEN), "POST /forms/{merchant}/tickets"),
    ],
    ids=["wechat", "web-form"],
)
async def test_delivery_to_aftersales_continues_the_requests_trace(
    client: httpx.AsyncClient,
    gateway: Running,
    aftersales: RecordingAftersales,
    kit: Kit,
    spans: InMemorySpanExporter,
    make: Callable[[], Message],
    route: str,
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    message = make()
    spans.clear()
    headers = {**message.headers, "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    await send(client, replace(message, headers=headers))

    async def delivered() -> bool:
        return [r.state for r in await kit.inbox_rows(gateway)] == ["DELIVERED"]

    await kit.eventually(delivered, what="DELIVERED")

    async def deliver_span_ended() -> bool:
        return any(s.name == "gateway.deliver" for s in spans.get_finished_spans())

    await kit.eventually(deliver_span_ended, what="the gateway.deliver span")
    finished = spans.get_finished_spans()
    (server,) = [s for s in finished if s.kind == SpanKind.SERVER and s.name == route]
    (deliver,) = [s for s in finished if s.name == "gateway.deliver"]
    assert server.context.trace_id == deliver.context.trace_id == int(trace_id, 16)
    assert deliver.attributes is not None
    assert deliver.attributes["oms.channel"] == message_channel_name(message)
    assert deliver.attributes["oms.ticket_id"] == "tkt1"


def message_channel_name(message: Message) -> str:
    return aftersales_pb2.Channel.Name(message.channel).removeprefix("CHANNEL_")


# --- oms send ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(AFTERSALES_KINDS))
async def test_cli_sample_of_each_kind_is_accepted_and_delivered_to_aftersales(
    make_gateway: Any,
    orders: Any,
    aftersales: RecordingAftersales,
    kit: Kit,
    kind: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in DEV_PLATFORM_ENV:
        monkeypatch.delenv(name, raising=False)
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        None,
        OMS_AFTERSALES_ADDR=f"127.0.0.1:{aftersales.port}",  # type: ignore[attr-defined]
        OMS_ENV="development",  # the published development secrets are for local stacks only
        **DEV_PLATFORM_ENV,
    )
    path, body, headers, _ = build_aftersales_push(
        kind, order_id="3900000000000042", text=None, secret=None, key=None
    )
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        reply = await http.post(path, content=body, headers=headers)
    assert reply.status_code in (200, 202), reply.text

    async def delivered() -> bool:
        return len(aftersales.calls) == 1

    await kit.eventually(delivered, what="delivery to aftersales")


async def test_a_quiet_wechat_account_raises_no_feed_silence_alert(
    make_gateway: Any, orders: Any, aftersales: RecordingAftersales, kit: Kit
) -> None:
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        None,
        OMS_AFTERSALES_ADDR=f"127.0.0.1:{aftersales.port}",  # type: ignore[attr-defined]
        OMS_GATEWAY_FEED_SILENCE_SECONDS=0.01,
        OMS_GATEWAY_FEED_CHECK_SECONDS=3600,  # checked here, not by the background loop
        **ENV,
    )
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        assert (await send(http, wechat(30, WECHAT_TOKEN))).status_code == 200
        assert (await send(http, taobao(30, SECRET))).status_code == 200
    await asyncio.sleep(0.05)  # both feeds are now silent past the threshold
    assert running.gateway.operations is not None
    raised = await running.gateway.operations.feed_monitor.check()
    # (Whether taobao's silence is an alert depends on the monitor's own rules.)
    assert "wechat" not in [alert.subject for alert in raised]


async def test_form_answers_cors_for_the_configured_origins_only(
    make_gateway: Any, orders: Any, aftersales: RecordingAftersales
) -> None:
    service, _ = orders
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}",
        None,
        OMS_AFTERSALES_ADDR=f"127.0.0.1:{aftersales.port}",  # type: ignore[attr-defined]
        OMS_FORM_TOKENS=ENV["OMS_FORM_TOKENS"],
        OMS_FORM_ALLOWED_ORIGINS='["https://shop.example.com", "https://m.example.com:8443"]',
    )
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-oms-form-token",
    }
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        allowed = await http.options(
            "/forms/acme/tickets", headers={**preflight, "origin": "https://shop.example.com"}
        )
        other = await http.options(
            "/forms/acme/tickets", headers={**preflight, "origin": "https://evil.example"}
        )
        message = form(40, FORM_TOKEN)
        posted = await http.post(
            message.path,
            content=message.body,
            headers={**message.headers, "origin": "https://m.example.com:8443"},
        )
        admin = await http.options(
            "/admin/inbox", headers={**preflight, "origin": "https://shop.example.com"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example.com"
    assert "x-oms-form-token" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in other.headers
    assert posted.status_code == 202
    assert posted.headers["access-control-allow-origin"] == "https://m.example.com:8443"
    assert "access-control-allow-origin" not in admin.headers


def refund_success(platform: str) -> tuple[str, bytes, dict[str, str], str, str]:
    """``(path, body, headers, platform order id, platform refund id)`` of a signed push
    saying the marketplace refunded 12.50 yuan."""
    if platform == "taobao":
        query, body, headers = samples.taobao_refund(
            KEY, SECRET, message_id=7700, topic="taobao_refund_RefundSuccess"
        )
        return f"/webhooks/taobao?{query}", body, headers, "3900000000000001", "RF1001"
    if platform == "jd":
        body, headers = samples.jd_afs(KEY, SECRET, expect=40, status=50, refund_amount="12.50")
        return "/webhooks/jd", body, headers, "250000000001", "500001"
    if platform == "douyin":
        message = samples.douyin_aftersale_message("rs-1", tag="206", aftersale_type=2)
        body, headers = douyin_samples.sample_push(KEY, SECRET, [message])
        return "/webhooks/douyin", body, headers, "6900000000000000101", "7100000000000001"
    body, headers = samples.youzan_refund(KEY, SECRET, event_type="trade_refund_Success")
    return "/webhooks/youzan", body, headers, "E20261124080000000001", "201911251234567"


MARKETPLACES = {"taobao": P.PLATFORM_TAOBAO, "jd": P.PLATFORM_JD}
MARKETPLACES |= {"douyin": P.PLATFORM_DOUYIN, "youzan": P.PLATFORM_YOUZAN}


@pytest.mark.parametrize("platform", sorted(MARKETPLACES))
async def test_a_marketplace_refund_success_is_recorded_as_the_platforms_refund(
    client: httpx.AsyncClient,
    gateway: Running,
    aftersales: RecordingAftersales,
    kit: Kit,
    platform: str,
) -> None:
    path, body, headers, platform_order_id, refund_id = refund_success(platform)
    response = await client.post(path, content=body, headers=headers)
    assert response.status_code in (200, 202), response.text

    async def delivered() -> bool:
        return [r.state for r in await kit.inbox_rows(gateway)] == ["DELIVERED"]

    async def settled() -> bool:
        return [r.state for r in await kit.inbox_rows(gateway)] in (["DELIVERED"], ["DEAD"])

    await kit.eventually(settled, what="DELIVERED")
    (row,) = await kit.inbox_rows(gateway)
    assert row.state == "DELIVERED", row.last_error
    (message,) = aftersales.calls  # the case's ticket hears of it first
    (refund,) = aftersales.refunds
    assert (refund.platform_order.platform, refund.platform_order.platform_order_id) == (
        MARKETPLACES[platform],
        platform_order_id,
    )
    assert refund.platform_refund_id == refund_id == message.platform_case.case_id
    assert (refund.amount.minor_units, refund.amount.currency_code) == (1250, "CNY")
    assert refund.ticket == "tickets/tkt1" and not refund.order
    (row,) = await kit.inbox_rows(gateway)
    assert (row.order_id, row.outcome) == ("tkt1", "PLATFORM_REFUND_RECORDED")


async def test_a_refund_push_before_aftersales_knows_the_order_is_retried_until_recorded(
    client: httpx.AsyncClient, gateway: Running, aftersales: RecordingAftersales, kit: Kit
) -> None:
    aftersales.fail_refunds = Unavailable("order not known yet", reason="ORDER_NOT_KNOWN_YET")
    path, body, headers, _, refund_id = refund_success("taobao")
    await client.post(path, content=body, headers=headers)

    async def retried() -> bool:
        return len(aftersales.refunds) >= 2

    await kit.eventually(retried, what="a second attempt")
    aftersales.fail_refunds = None

    async def delivered() -> bool:
        return [r.state for r in await kit.inbox_rows(gateway)] == ["DELIVERED"]

    await kit.eventually(delivered, what="DELIVERED")
    assert {r.platform_refund_id for r in aftersales.refunds} == {refund_id}
    assert len({c.request_id for c in aftersales.calls}) == 1  # one ticket message, repeated


async def test_a_refund_push_that_is_not_a_success_records_no_platform_refund(
    client: httpx.AsyncClient, gateway: Running, aftersales: RecordingAftersales, kit: Kit
) -> None:
    for channel in CHANNELS[:4]:  # Taobao, JD, Douyin and Youzan cases still open
        await send(client, build(channel, 30))

    async def delivered() -> bool:
        return [r.state for r in await kit.inbox_rows(gateway)] == ["DELIVERED"] * 4

    await kit.eventually(delivered, what="all four DELIVERED")
    assert len(aftersales.calls) == 4 and aftersales.refunds == []
