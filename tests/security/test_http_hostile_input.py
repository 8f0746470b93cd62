"""Hostile HTTP input against a real gateway: each case answers its documented 4xx (never
5xx), stores nothing, and logs neither a secret nor the raw body.

Raw sockets where an HTTP client would refuse to misbehave (huge heads, slow drips).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from http_hostile_support import (
    HostileGateway,
    captured_logs,
    hostile_gateway,
    raw_exchange,
    status_of,
)

#: Short deadlines keep the slow-client cases quick; production defaults are 10 s and 30 s.
SLOW = {"OMS_GATEWAY_HEADER_TIMEOUT_SECONDS": 1.0, "OMS_GATEWAY_BODY_TIMEOUT_SECONDS": 1.0}


@pytest.fixture
async def gw(
    make_database_url: Callable[[str], str], redis_url: str
) -> AsyncIterator[HostileGateway]:
    async with hostile_gateway(make_database_url, redis_url, **SLOW) as running:
        yield running


def push_head(size: int = 100, extra: bytes = b"") -> bytes:
    return (
        b"POST /webhooks/shop HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % size
    )


# -- the HTTP server's own limits ------------------------------------------------------


@pytest.mark.parametrize("header_bytes", [17_000, 4 * 1024 * 1024])
async def test_an_oversized_head_is_431_before_anything_is_stored(
    gw: HostileGateway, header_bytes: int
) -> None:
    with captured_logs() as logs:
        answer, closed = await raw_exchange(
            gw.port, push_head(extra=b"X-Pad: " + b"a" * header_bytes + b"\r\n") + b"{}" * 50
        )
    assert (status_of(answer), closed) == (431, True)
    assert b"HEADERS_TOO_LARGE" in answer
    assert await gw.inbox_count() == 0 and await gw.rejected() == []
    assert "a" * 100 not in logs.text()


async def test_many_headers_adding_up_past_the_limit_are_431(gw: HostileGateway) -> None:
    many = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 60) for n in range(400))
    answer, _ = await raw_exchange(gw.port, push_head(extra=many))
    assert status_of(answer) == 431


async def test_a_head_within_the_limit_is_served(gw: HostileGateway) -> None:
    answer, _ = await raw_exchange(
        gw.port,
        b"GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nX-Pad: "
        + b"a" * 12_000
        + b"\r\n\r\n",
    )
    assert status_of(answer) == 200


async def test_a_huge_query_string_is_414(gw: HostileGateway) -> None:
    with captured_logs() as logs:
        answer, closed = await raw_exchange(
            gw.port, b"POST /webhooks/shop?token=" + b"q" * 9_000 + b" HTTP/1.1\r\nHost: gw\r\n\r\n"
        )
    assert (status_of(answer), closed) == (414, True)
    assert await gw.inbox_count() == 0 and await gw.rejected() == []
    assert "q" * 100 not in logs.text()


async def test_a_head_sent_a_byte_at_a_time_is_dropped_with_408(gw: HostileGateway) -> None:
    answer, closed = await raw_exchange(gw.port, b"", drip=push_head() * 4)
    assert (status_of(answer), closed) == (408, True)
    assert await gw.inbox_count() == 0 and await gw.rejected() == []


async def test_a_connection_that_sends_nothing_is_dropped(gw: HostileGateway) -> None:
    answer, closed = await raw_exchange(gw.port, b"")
    assert closed and status_of(answer) in (0, 408)


async def test_a_body_sent_a_byte_at_a_time_is_dropped_with_408_and_logged_once(
    gw: HostileGateway,
) -> None:
    with captured_logs() as logs:
        answer, closed = await raw_exchange(gw.port, push_head(200), drip=b"{" * 200)
        await asyncio.sleep(0.2)  # the application's side of the disconnect logs now
    assert (status_of(answer), closed) == (408, True)
    assert await gw.inbox_count() == 0 and await gw.rejected() == []
    assert logs.at_or_above(40) == []  # no ERROR, no traceback
    assert not any(record.exc_info for record in logs.records)


async def test_many_slow_clients_are_all_dropped(gw: HostileGateway) -> None:
    results = await asyncio.gather(
        *(raw_exchange(gw.port, b"", drip=push_head() * 4, every=0.5) for _ in range(20))
    )
    assert all(closed for _, closed in results)
    assert {status_of(answer) for answer, _ in results} == {408}


async def test_requests_on_a_kept_alive_connection_each_get_their_own_deadline(
    gw: HostileGateway,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    try:
        for _ in range(3):
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n")
            await writer.drain()
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
            assert status_of(head) == 200
            await asyncio.sleep(0.6)  # together longer than one head deadline
    finally:
        writer.close()


# -- what is kept of refused pushes ---------------------------------------------------


async def test_ten_refused_pushes_with_large_bodies_keep_only_bounded_rows(
    gw: HostileGateway,
) -> None:
    body = b'{"order": "' + b"B" * 900_000 + b'"}'  # under the 1 MiB body limit
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=20) as http:
        for n in range(10):
            response = await http.post(
                "/webhooks/shop",
                content=body,
                headers={
                    "webhook-id": f"msg_{n}",
                    "webhook-timestamp": str(int(time.time())),
                    "webhook-signature": "v1,Zm9yZ2Vk",
                    "authorization": "Bearer not-for-the-log",
                    **{f"x-pad-{k}": "p" * 200 for k in range(30)},
                },
            )
            assert response.status_code == 401
    rows = await gw.rejected()
    assert len(rows) == 10 and await gw.inbox_count() == 0
    digest = hashlib.sha256(body).hexdigest()
    for row in rows:
        assert (row.body_bytes, row.body_sha256, row.source) == (len(body), digest, "127.0.0.1")
        assert len(row.header_names) <= 16
        assert len(repr(tuple(row))) < 2_000  # a row is metadata, whatever came in
        assert "not-for-the-log" not in repr(tuple(row)) and "ppp" not in repr(tuple(row))


# -- logs --------------------------------------------------------------------------------


async def test_a_token_in_a_query_string_never_reaches_a_log_line(gw: HostileGateway) -> None:
    token = secrets.token_hex(16)
    with captured_logs() as logs:
        async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as http:
            assert (await http.get(f"/healthz?access_token={token}")).status_code == 200
            forged = await http.post(f"/webhooks/shop?token={token}", content=b"{}")
            assert forged.status_code == 401
            assert (await http.get(f"/admin/inbox?token={token}")).status_code == 401
    assert token not in logs.text()
    access = [r.getMessage() for r in logs.records if r.name == "uvicorn.access"]
    assert any("/healthz?[redacted]" in line for line in access), access


@pytest.mark.parametrize("path", ["/webhooks/shop", "/admin/inbox/import"])
async def test_a_client_gone_mid_body_logs_one_line_not_tracebacks(
    gw: HostileGateway, path: str
) -> None:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {gw.admin_token}\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    with captured_logs() as logs:
        _, writer = await asyncio.open_connection("127.0.0.1", gw.port)
        writer.write(head + b'{"records": [' + b" " * 5000)
        await writer.drain()
        await asyncio.sleep(0.3)  # the application is reading the body now
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.5)
    assert logs.at_or_above(logging.ERROR) == []
    assert not any(record.exc_info for record in logs.records)
    gone = [r for r in logs.records if getattr(r, "code", "") == "CLIENT_DISCONNECTED"]
    assert len(gone) <= 1
    assert await gw.inbox_count() == 0 and await gw.rejected() == []
