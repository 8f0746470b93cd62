"""Hostile requests to the after-sales service: each answers INVALID_ARGUMENT naming its
field, never echoes the input, and opens no ticket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import grpc.aio
import pytest
from google.rpc import error_details_pb2, status_pb2
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as pb
from oms.aftersales.v1 import aftersales_service_pb2_grpc as pb_grpc
from oms_aftersales.bootstrap import start
from oms_aftersales.config import Settings

MAX_DETAILS = 2048


@pytest.fixture
async def stub(
    make_database_url: Callable[[str], str], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[pb_grpc.AftersalesServiceStub]:
    monkeypatch.setenv("OMS_AFTERSALES_PORT", "0")
    monkeypatch.setenv("OMS_AFTERSALES_HOST", "127.0.0.1")
    monkeypatch.setenv("OMS_AFTERSALES_DATABASE_URL", make_database_url("aftersales"))
    monkeypatch.setenv("OMS_REDIS_URL", redis_url)
    running = await start(Settings(), jobs=False)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield pb_grpc.AftersalesServiceStub(channel)
    finally:
        await running.stop()


def message(**fields: Any) -> pb.RecordCustomerMessageRequest:
    request = pb.RecordCustomerMessageRequest(
        request_id="wx-1",
        channel=apb.CHANNEL_WECHAT,
        merchant_id="m1",
        customer=apb.CustomerIdentity(wechat_openid="o-1"),
        text="在吗",
    )
    for name, value in fields.items():
        target: Any = request
        *path, last = name.split("__")
        for part in path:
            target = getattr(target, part)
        setattr(target, last, value)
    return request


HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    "text of a megabyte": ({"text": "退" * 1_000_000}, "text"),
    "request id of a megabyte": ({"request_id": "r" * 1_000_000}, "request_id"),
    "empty request id": ({"request_id": ""}, "request_id"),
    "unknown channel": ({"channel": 99}, "channel"),
    "unspecified channel": ({"channel": 0}, "channel"),
    "openid of a megabyte": (
        {"customer__wechat_openid": "o" * 1_000_000},
        "customer.wechat_openid",
    ),
    "order name with a path": ({"order": "orders/../x"}, "order"),
    "merchant of a megabyte": ({"merchant_id": "m" * 1_000_000}, "merchant_id"),
}


def violated(err: grpc.aio.AioRpcError) -> list[str]:
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    return [v.field for v in bad.field_violations]
    return []


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_a_hostile_message_is_refused_and_opens_no_ticket(stub, case: str) -> None:  # type: ignore[no-untyped-def]
    fields, field = HOSTILE[case]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.RecordCustomerMessage(message(**fields))
    err = raised.value
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert len(err.details() or "") < MAX_DETAILS
    assert field in violated(err)
    listed = await stub.ListTickets(pb.ListTicketsRequest())
    assert list(listed.tickets) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.GetTicket(pb.GetTicketRequest(name="tickets/" + "x" * 100_000)),
        lambda s: s.ListTickets(pb.ListTicketsRequest(page_size=1_000_000)),
        lambda s: s.ReplyToTicket(pb.ReplyToTicketRequest(name="tickets/T1", text="r" * 10_000)),
        lambda s: s.ChangeTicketPriority(pb.ChangeTicketPriorityRequest(name="tickets/T1")),
    ],
    ids=["ticket name too long", "page too big", "reply too long", "no priority"],
)
async def test_hostile_ticket_calls_are_refused(stub, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(stub)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert len(raised.value.details() or "") < MAX_DETAILS
