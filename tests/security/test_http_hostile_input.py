"""Hostile HTTP input against a real gateway: each case answers its documented 4xx (never
5xx), stores nothing, and logs neither a secret nor the raw body.

Raw sockets where an HTTP client would refuse to misbehave (huge heads, slow drips).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from http_hostile_support import (
    HostileGateway,
    LogLines,
    captured_logs,
    hostile_gateway,
    raw_exchange,
    status_of,
)
from omslib.platforms.samples.shop import new_secret, sample_shop_order, sign_standard_webhook
from omslib.testing.polling import eventually

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
        # The application's side of the drop has run (and logged) once the server is idle.
        await eventually(gw.idle, what="the gateway done with the dropped connection")
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
        await eventually(gw.idle, what="the gateway done with the dropped connection")
    assert logs.at_or_above(logging.ERROR) == []
    assert not any(record.exc_info for record in logs.records)
    gone = _disconnects(logs)
    assert len(gone) <= 1
    assert await gw.inbox_count() == 0 and await gw.rejected() == []


def _disconnects(logs: LogLines) -> list[logging.LogRecord]:
    return [r for r in logs.records if getattr(r, "code", "") == "CLIENT_DISCONNECTED"]


# -- hostile requests: each answers its documented 4xx, stores nothing, leaks nothing ------

MARKER = "HOSTILE-7f3a9c"  # in every hostile body: must never appear in a log line


def signed(gw: HostileGateway, body: bytes, *, stamp: int | None = None) -> dict[str, str]:
    return sign_standard_webhook(
        gw.shop_secret, f"msg_{secrets.token_hex(4)}", stamp or int(time.time()), body
    )


def order(order_id: str = "H1") -> bytes:
    payload = sample_shop_order(order_id, [("SKU-1", 1)])
    payload["note"] = MARKER
    return json.dumps(payload).encode()


def gzip_bomb() -> bytes:
    # 64 MiB of zeros in about 64 KiB: harmless only if nobody inflates it.
    return gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)


Case = Callable[[HostileGateway, httpx.AsyncClient], Awaitable[httpx.Response]]


async def forged_signature(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    body = order()
    headers = sign_standard_webhook(new_secret(), "msg_f", int(time.time()), body)
    return await http.post("/webhooks/shop", content=body, headers=headers)


async def tampered_body(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    headers = signed(gw, order())
    return await http.post("/webhooks/shop", content=order("H2"), headers=headers)


async def missing_signature(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    return await http.post("/webhooks/shop", content=order())


async def stale_timestamp(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    body = order()
    headers = signed(gw, body, stamp=int(time.time()) - 3600)
    return await http.post("/webhooks/shop", content=body, headers=headers)


async def garbage_signature_header(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    headers: dict[str, str | bytes] = {**signed(gw, order())}
    headers["webhook-signature"] = b"v1," + b"\xff" * 3000
    headers["webhook-timestamp"] = "9" * 40
    return await http.post("/webhooks/shop", content=order(), headers=headers)


async def oversized_body(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    body = MARKER.encode() * (2 * 1024 * 1024 // len(MARKER))
    return await http.post("/webhooks/shop", content=body, headers=signed(gw, body))


async def oversized_chunked_body(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield MARKER.encode() * 4096  # ~56 KiB a chunk, no Content-Length

    return await http.post("/webhooks/shop", content=chunks())


async def signed_gzip_bomb(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    body = gzip_bomb()
    headers = {**signed(gw, body), "content-encoding": "gzip"}
    return await http.post("/webhooks/shop", content=body, headers=headers)


async def unsigned_gzip_bomb(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    body = gzip_bomb()
    return await http.post("/webhooks/shop", content=body, headers={"content-encoding": "gzip"})


async def signed_malformed_json(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    body = b'{"id": "' + MARKER.encode() + b'", "lines": [1, 2,'
    return await http.post("/webhooks/shop", content=body, headers=signed(gw, body))


async def signed_non_utf8(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    body = b"\xff\xfe\xfd" + MARKER.encode() + b"\xc3\x28"
    return await http.post("/webhooks/shop", content=body, headers=signed(gw, body))


async def signed_wrong_shape(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    body = json.dumps({"id": MARKER, "lines": "many", "total": 2**70}).encode()
    return await http.post("/webhooks/shop", content=body, headers=signed(gw, body))


async def unknown_platform(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    body = order()
    return await http.post("/webhooks/amazon", content=body, headers=signed(gw, body))


async def huge_platform_name(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    return await http.post("/webhooks/" + "p" * 4000, content=order())


async def wrong_method(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/webhooks/shop")


async def admin_without_token(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/admin/inbox")


async def admin_with_wrong_token(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    headers = {"authorization": "Bearer " + gw.admin_token[:-1] + "x"}
    return await http.get("/admin/inbox", headers=headers)


async def admin_token_in_query(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    return await http.get(f"/admin/inbox?token={gw.admin_token}")


async def admin_import_without_token(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    body = b'{"records": [' + MARKER.encode() * 200_000  # ~2.8 MB of malformed JSON
    return await http.post("/admin/inbox/import", content=body)


async def admin_import_with_wrong_scheme(
    gw: HostileGateway, http: httpx.AsyncClient
) -> httpx.Response:
    headers = {"authorization": "Basic " + gw.admin_token}
    return await http.post("/admin/inbox/import", content=b"{}", headers=headers)


async def admin_bad_json_with_token(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    headers = {"authorization": f"Bearer {gw.admin_token}", "content-type": "application/json"}
    body = b'{"records": [{"platform": "' + MARKER.encode() + b'"'
    return await http.post("/admin/inbox/import", content=body, headers=headers)


async def admin_import_forged_record(gw: HostileGateway, http: httpx.AsyncClient) -> httpx.Response:
    # A record with a forged signature is refused inside the import: 200, "rejected".
    body = order()
    record = {
        "path": "/webhooks/shop",
        "headers": sign_standard_webhook(new_secret(), "msg_i", int(time.time()), body),
        "body": body.decode(),
    }
    headers = {"authorization": f"Bearer {gw.admin_token}"}
    return await http.post("/admin/inbox/import", json={"records": [record]}, headers=headers)


CASES: dict[str, tuple[Case, set[int]]] = {
    "forged-signature": (forged_signature, {401}),
    "tampered-body": (tampered_body, {401}),
    "missing-signature": (missing_signature, {401}),
    "stale-timestamp": (stale_timestamp, {401}),
    "garbage-signature-header": (garbage_signature_header, {401}),
    "oversized-body": (oversized_body, {413}),
    "oversized-chunked-body": (oversized_chunked_body, {413}),
    "signed-gzip-bomb": (signed_gzip_bomb, {400}),
    "unsigned-gzip-bomb": (unsigned_gzip_bomb, {401}),
    "signed-malformed-json": (signed_malformed_json, {400}),
    "signed-non-utf8": (signed_non_utf8, {400}),
    "signed-wrong-shape": (signed_wrong_shape, {400}),
    "unknown-platform": (unknown_platform, {404}),
    "huge-platform-name": (huge_platform_name, {404}),
    "wrong-method": (wrong_method, {405}),
    "admin-without-token": (admin_without_token, {401}),
    "admin-with-wrong-token": (admin_with_wrong_token, {401}),
    "admin-token-in-query": (admin_token_in_query, {401}),
    "admin-import-without-token": (admin_import_without_token, {401}),
    "admin-import-wrong-scheme": (admin_import_with_wrong_scheme, {401}),
    "admin-bad-json-with-token": (admin_bad_json_with_token, {422}),
    "admin-import-forged-record": (admin_import_forged_record, {200}),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_hostile_request(gw: HostileGateway, name: str) -> None:
    case, expected = CASES[name]
    with captured_logs() as logs:
        async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as http:
            response = await case(gw, http)
    assert response.status_code in expected, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["status"] == response.status_code and error["reason"].isupper()
    if name == "admin-import-forged-record":
        assert response.json()["rejected"] == 1
    assert len(response.content) < 4096  # answers never echo the input
    assert MARKER not in response.text
    assert await gw.inbox_count() == 0
    for row in await gw.rejected():  # refused pushes leave bounded metadata at most
        assert len(repr(tuple(row))) < 2_000 and MARKER not in repr(tuple(row))
    text = logs.text()
    assert not any(secret in text for secret in gw.secrets())
    assert MARKER not in text
    assert logs.at_or_above(logging.ERROR) == []


RAW_CASES: dict[str, tuple[bytes, set[int]]] = {
    "dot-dot-platform": (b"POST /webhooks/../admin/inbox HTTP/1.1\r\nHost: gw\r\n", {404}),
    "encoded-dot-dot": (b"POST /webhooks/%2e%2e%2fadmin%2finbox HTTP/1.1\r\nHost: gw\r\n", {404}),
    "encoded-slash": (b"POST /webhooks/shop%2f..%2f..%2fetc HTTP/1.1\r\nHost: gw\r\n", {404}),
    "nul-in-platform": (b"POST /webhooks/shop%00 HTTP/1.1\r\nHost: gw\r\n", {404}),
    "non-utf8-path": (b"POST /webhooks/sh%ffop HTTP/1.1\r\nHost: gw\r\n", {400, 404}),
    "raw-nul-in-path": (b"POST /webhooks/sh\x00op HTTP/1.1\r\nHost: gw\r\n", {400}),
    "two-content-lengths": (
        b"POST /webhooks/shop HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\nContent-Length: 9\r\n",
        {400},
    ),
    "smuggling-te-and-cl": (
        b"POST /webhooks/shop HTTP/1.1\r\nHost: gw\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n",
        {400},
    ),
    "lying-content-length": (
        b"POST /webhooks/shop HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000000000000\r\n",
        {413},
    ),
    "negative-content-length": (
        b"POST /webhooks/shop HTTP/1.1\r\nHost: gw\r\nContent-Length: -1\r\n",
        {400},
    ),
    "non-utf8-header": (
        b"POST /webhooks/shop HTTP/1.1\r\nHost: gw\r\nwebhook-id: \xff\xfe\r\n",
        {401},
    ),
    "bare-newlines": (b"POST /webhooks/shop HTTP/1.1\nHost: gw\n", {400, 401}),
}


@pytest.mark.parametrize("name", list(RAW_CASES))
async def test_hostile_raw_request(gw: HostileGateway, name: str) -> None:
    head, expected = RAW_CASES[name]
    body = MARKER.encode()
    request = head
    if b"Content-Length" not in head:
        request += b"Content-Length: %d\r\n" % len(body)
    request += b"Connection: close\r\n\r\n" + body
    with captured_logs() as logs:
        answer, closed = await raw_exchange(gw.port, request)
    assert closed
    assert status_of(answer) in expected, answer[:300]
    assert await gw.inbox_count() == 0
    assert MARKER not in logs.text()
    assert logs.at_or_above(logging.ERROR) == []


async def test_a_flood_of_forged_pushes_keeps_a_bounded_number_of_rows(
    make_database_url: Callable[[str], str], redis_url: str
) -> None:
    limit = {"OMS_GATEWAY_AUTH_FAILURE_RATE_LIMIT": "0.01:5"}
    async with (
        hostile_gateway(make_database_url, redis_url, **limit) as flooded,
        httpx.AsyncClient(base_url=flooded.base_url, timeout=10) as http,
    ):
        statuses = [(await forged_signature(flooded, http)).status_code for _ in range(25)]
        assert statuses == [401] * 5 + [429] * 20
        assert len(await flooded.rejected()) == 5 and await flooded.inbox_count() == 0
