"""A sales channel's stock API on 127.0.0.1, for channel sync tests.

It plays the channel that ``HttpJsonPusher`` talks to: each ``POST`` carries
``{"channel", "full", "items": [{"sku", "quantity"}]}``; a full push replaces what
the channel shows, a partial one updates it. ``fail_next`` makes the next N pushes
answer 503, as a channel having a bad minute would.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class FakeChannel:
    def __init__(self) -> None:
        #: Every accepted push body, in arrival order.
        self.requests: list[dict[str, Any]] = []
        #: What each channel shows now: channel -> SKU -> quantity.
        self.stock: dict[str, dict[str, int]] = {}
        self.fail_next = 0
        self.base = ""
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        """Listen on a free port; the base URL (also in ``base``)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self.base

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode().split("\r\n")[1:]
                headers = {k.lower(): v for k, _, v in (x.partition(": ") for x in lines)}
                body = json.loads(await reader.readexactly(int(headers.get("content-length", 0))))
                status = self._handle(body)
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 2\r\n\r\n{{}}".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _handle(self, body: dict[str, Any]) -> int:
        if self.fail_next:
            self.fail_next -= 1
            return 503
        self.requests.append(body)
        shown = self.stock.setdefault(body["channel"], {})
        if body["full"]:
            shown.clear()
        shown.update({item["sku"]: item["quantity"] for item in body["items"]})
        return 200
