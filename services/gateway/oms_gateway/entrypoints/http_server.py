"""The gateway's HTTP/1.1 connection handling: uvicorn's httptools protocol with limits
on what an anonymous client may make it hold.

uvicorn has no limit on the size of a request head (httptools buffers a header value
until it ends: one 32 MiB header grew the process by 52 MiB) and no timeout while a
head or body arrives (a byte every two seconds kept a connection open forever). Both
must be enforced where the bytes arrive, before the ASGI application sees a request,
so they are here rather than in a middleware:

- a head (request line and headers) larger than ``max_header_bytes`` is answered 431,
  a request target larger than ``max_url_bytes`` 414, and the connection closed; the
  parser is never fed more than the limit;
- a head must be complete ``header_timeout_seconds`` after the connection was made (or
  after the first byte of a later request on it), and a body ``body_timeout_seconds``
  after its head, else the client gets 408 (if no answer started) and is dropped. These
  are deadlines, not idle gaps: a slow drip does not renew them.

A dropped body reaches the application as a client disconnect, which
``entrypoints.asgi`` logs in one line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger(__name__)

Phase = Literal["head", "body"]


@dataclass(frozen=True)
class HttpLimits:
    max_header_bytes: int = 16_384
    max_url_bytes: int = 8_192
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0


class _TooLarge(Exception):
    """Raised from a parser callback to stop parsing: httptools then stops feeding."""

    def __init__(self, status: int, reason: str, what: str, limit: str) -> None:
        super().__init__(reason)
        self.status, self.reason, self.what, self.limit = status, reason, what, limit


HEAD_TOO_LARGE = _TooLarge(431, "HEADERS_TOO_LARGE", "request head", "max_header_bytes")


def guarded_http(limits: HttpLimits) -> type[GuardedHttpProtocol]:
    """The protocol class to give ``uvicorn.Config(http=...)``, enforcing ``limits``."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"limits": limits})


class GuardedHttpProtocol(HttpToolsProtocol):
    limits: ClassVar[HttpLimits] = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # the next bytes belong to a request head
        self._head_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        view = memoryview(data)  # slicing a view copies nothing (bodies can be 1 MiB)
        while view and not self.transport.is_closing():
            if not self._in_head:
                self._feed(view)
                return
            room = self.limits.max_header_bytes - self._head_bytes
            if room <= 0:
                self._refuse(
                    _TooLarge(431, "HEADERS_TOO_LARGE", "request head", "max_header_bytes")
                )
                return
            # Feed at most the rest of the allowance: httptools must never buffer more.
            part, view = view[:room], view[room:]
            self._head_bytes += len(part)
            self._feed(part)

    def _feed(self, data: memoryview) -> None:
        # As uvicorn's own data_received, plus the refusals raised by the callbacks below.
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as err:
            if isinstance(err.__context__, _TooLarge):
                self._refuse(err.__context__)
                return
            self._invalid()
        except httptools.HttpParserError:
            self._invalid()
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _invalid(self) -> None:
        self.logger.warning("Invalid HTTP request received.")
        self.send_400_response("Invalid HTTP request received.")

    # httptools callbacks ------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a later request on a kept-alive connection
            self._arm("head")

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            raise _TooLarge(414, "URI_TOO_LONG", "request target", "max_url_bytes")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._arm("body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head = True
        self._head_bytes = 0
        super().on_message_complete()

    # limits -------------------------------------------------------------------------
    def _arm(self, phase: Phase) -> None:
        self._disarm()
        seconds = (
            self.limits.header_timeout_seconds
            if phase == "head"
            else self.limits.body_timeout_seconds
        )
        self._deadline = self.loop.call_later(seconds, self._too_slow, phase)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self, phase: Phase) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        log.info(
            "slow client dropped: request %s not received in time",
            phase,
            extra={"code": "HTTP_CLIENT_TOO_SLOW", "client": self._client_host()},
        )
        cycle = self.cycle if phase == "body" else None
        if cycle is None or not cycle.response_started:
            self._write_error(408, "REQUEST_TIMEOUT", f"the request {phase} took too long")
        if cycle is not None and not cycle.response_complete:
            # The application sees a disconnect; whatever it answers goes nowhere.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    def _refuse(self, refusal: _TooLarge) -> None:
        allowed = getattr(self.limits, refusal.limit)
        log.info(
            "request refused: %s larger than %d bytes",
            refusal.what,
            allowed,
            extra={"code": refusal.reason, "client": self._client_host()},
        )
        self._disarm()
        message = f"{refusal.what} larger than {allowed} bytes"
        self._write_error(refusal.status, refusal.reason, message)
        self.transport.close()

    def _write_error(self, status: int, reason: str, message: str) -> None:
        """The gateway's JSON error body, written directly: no request reached the app."""
        body = json.dumps(
            {"error": {"status": status, "reason": reason, "message": message}}
        ).encode()
        head = [STATUS_LINE[status]]
        head.extend(
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        )
        head.append(b"content-type: application/json\r\n")
        head.append(b"content-length: %d\r\n" % len(body))
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + body)

    def _client_host(self) -> str | None:
        return self.client[0] if self.client else None


class RedactQueryStrings(logging.Filter):
    """Cuts the query string out of uvicorn's access log lines: platforms and clients may
    put tokens there (``?access_token=``), and a log is no place for a credential. The
    path stays, and ``?[redacted]`` says that there was a query."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn logs '%s - "%s %s HTTP/%s" %d': client, method, path with query, ...
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, sep, _query = args[2].partition("?")
            if sep:
                record.args = (args[0], args[1], path + "?[redacted]", *args[3:])
        return True


def redact_access_log() -> None:
    """Install :class:`RedactQueryStrings` on uvicorn's access logger (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQueryStrings) for f in access.filters):
        access.addFilter(RedactQueryStrings())
