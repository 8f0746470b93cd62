"""The Pinduoduo message connector: the gateway opens the WebSocket, Pinduoduo sends.

Connects to ``<OMS_PLATFORM_PDD_WS_URL>/message/{client_id}/{timestamp_ms}/{sign}`` with
sign = base64 MD5(client_id + timestamp_ms + client_secret) (URL-quoted), sends a
``{"commandType": "HeartBeat", "time": <ms>}`` frame (and a WebSocket ping) every
``OMS_PLATFORM_PDD_HEARTBEAT_SECONDS``, and reconnects with exponential backoff and full
jitter (0.5 s doubling up to ``OMS_PLATFORM_PDD_RECONNECT_MAX_SECONDS``) whenever the
connection drops or cannot be opened.

Every ``Common`` frame goes through the same intake as an HTTP push (translate, store in
the inbox, wake the delivery worker) and is acknowledged with
``{"commandType": "Ack", "id": <id>, "sendTime": <ms>}`` only after the inbox commit. If
the inbox cannot store it the connection is closed without acknowledging, so Pinduoduo
sends the message again after we reconnect. A frame that fails validation is recorded
in ``rejected_pushes`` and acknowledged (resending it cannot make it valid).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import quote

import websockets
from omslib.clock import Clock
from omslib.platforms.signing.pdd import connection_sign
from omslib.retry import Backoff
from omslib.telemetry import SPAN_ATTR_PLATFORM, current_traceparent
from opentelemetry import trace

from oms_gateway.domain.errors import InboxUnavailable, InvalidPayload
from oms_gateway.domain.inbox import RawPush
from oms_gateway.platforms.pdd import NAME, TRANSPORT_HEADER, ConnectionVerified, PddAdapter
from oms_gateway.service_layer.intake import IntakeService

log = logging.getLogger(__name__)
tracer = trace.get_tracer("oms_gateway.pdd")


def connection_url(base_url: str, client_id: str, secret: str, timestamp_ms: int) -> str:
    sign = quote(connection_sign(client_id, timestamp_ms, secret), safe="")
    return f"{base_url.rstrip('/')}/message/{client_id}/{timestamp_ms}/{sign}"


class PddConnector:
    def __init__(
        self,
        *,
        url: str,
        client_id: str,
        secret: str,
        adapter: PddAdapter,
        intake: IntakeService,
        clock: Clock,
        heartbeat_seconds: float = 10.0,
        reconnect_base_seconds: float = 0.5,
        reconnect_max_seconds: float = 30.0,
    ) -> None:
        self._url = url
        self._client_id = client_id
        self._secret = secret
        self._adapter = ConnectionVerified(adapter)
        self._intake = intake
        self._clock = clock
        self._heartbeat = heartbeat_seconds
        # Full jitter, and never back at once (a refused handshake would spin).
        self._backoff = Backoff(
            first=reconnect_base_seconds, cap=reconnect_max_seconds, full_jitter=True, floor=0.05
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        #: Set while a connection is open (tests wait on it).
        self.connected = asyncio.Event()
        self.connections = 0
        self.acknowledged = 0

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="pdd-connector")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.connected.clear()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            stamp = int(self._clock.now().timestamp() * 1000)
            url = connection_url(self._url, self._client_id, self._secret, stamp)
            try:
                async with websockets.connect(
                    url,
                    ping_interval=self._heartbeat,
                    ping_timeout=self._heartbeat * 2,
                    open_timeout=10,
                    max_size=2**20,
                ) as ws:
                    self.connections += 1
                    failures = 0
                    self.connected.set()
                    log.info("pdd connector connected", extra={"connections": self.connections})
                    await self._serve(ws)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection refused, dropped, handshake 401, ...
                log.warning("pdd connection lost", extra={"error": repr(exc)})
            finally:
                self.connected.clear()
            if self._stopping:
                return
            failures += 1
            await asyncio.sleep(self._backoff.seconds(failures))

    async def _serve(self, ws: Any) -> None:
        heartbeat = asyncio.create_task(self._heartbeats(ws), name="pdd-heartbeat")
        try:
            async for frame in ws:
                raw = frame.encode() if isinstance(frame, str) else bytes(frame)
                ack = await self._handle(raw)
                if ack is not None:
                    await ws.send(json.dumps(ack))
                    self.acknowledged += 1
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeats(self, ws: Any) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            stamp = int(self._clock.now().timestamp() * 1000)
            await ws.send(json.dumps({"commandType": "HeartBeat", "time": stamp}))

    async def _handle(self, raw: bytes) -> dict[str, Any] | None:
        """Store one frame; the Ack to send, or None (not a message, nothing to acknowledge).

        Raises ``InboxUnavailable`` (closing the connection unacknowledged) if it could not
        be stored.
        """
        try:
            frame = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning(
                "pdd frame is not JSON; ignored",
                extra={"frame": raw[:200].decode("utf-8", "replace")},
            )
            return None
        if not isinstance(frame, dict) or frame.get("commandType") != "Common":
            return None  # heartbeat answers and other control frames
        message_id = frame.get("id")
        push = RawPush(platform=NAME, headers={TRANSPORT_HEADER: "websocket"}, body=raw)
        with tracer.start_as_current_span(
            "pdd.message", kind=trace.SpanKind.CONSUMER, attributes={SPAN_ATTR_PLATFORM: NAME}
        ):
            try:
                result = await self._intake.receive(
                    self._adapter, push, traceparent=current_traceparent()
                )
                log.info(
                    "pdd message stored",
                    extra={
                        "message_id": message_id,
                        "inbox_id": result.inbox_id,
                        "duplicate": result.duplicate,
                    },
                )
            except InvalidPayload as err:
                log.warning(
                    "pdd message rejected",
                    extra={"message_id": message_id, "reason": err.reason, "error": err.message},
                )
            except InboxUnavailable:
                log.warning(
                    "pdd message not stored; closing to get it again",
                    extra={"message_id": message_id},
                )
                raise
        return {
            "commandType": "Ack",
            "id": message_id,
            "sendTime": int(self._clock.now().timestamp() * 1000),
        }
