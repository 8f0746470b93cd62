"""A real gateway (uvicorn on port 0, real database and Redis) for hostile HTTP tests,
raw-socket clients, and a log capture that can be searched for secrets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from oms_gateway.adapters.orm import inbox, rejected_pushes
from oms_gateway.bootstrap import Running, start
from oms_gateway.config import Settings
from omslib.platforms.samples.shop import new_secret
from omslib.settings import load_settings
from omslib.testing.net import free_port
from sqlalchemy import func, select

#: Every raw-socket exchange ends within this, or the test fails (never hangs).
SOCKET_BOUND_SECONDS = 20.0


@dataclass
class HostileGateway:
    running: Running
    shop_secret: str
    admin_token: str

    @property
    def base_url(self) -> str:
        return self.running.base_url

    @property
    def port(self) -> int:
        return self.running.port

    def secrets(self) -> list[str]:
        return [self.shop_secret, self.shop_secret.removeprefix("whsec_"), self.admin_token]

    def idle(self) -> bool:
        """No connection open and no request being handled: whatever a dropped client
        set off in the application has finished (and logged what it logs)."""
        state = self.running.server.server_state
        return not state.connections and not state.tasks

    async def count(self, table: Any) -> int:
        async with self.running.gateway.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

    async def inbox_count(self) -> int:
        return await self.count(inbox)

    async def rejected(self) -> list[Any]:
        async with self.running.gateway.engine.connect() as conn:
            return list((await conn.execute(select(rejected_pushes))).all())


@contextlib.asynccontextmanager
async def hostile_gateway(
    make_database_url: Callable[[str], str], redis_url: str, **extra: Any
) -> AsyncIterator[HostileGateway]:
    """A gateway whose delivery is off (orders is not needed to refuse input)."""
    secret = new_secret()
    token = os.urandom(24).hex()
    overrides: dict[str, Any] = {
        "OMS_GATEWAY_DATABASE_URL": make_database_url("gateway"),
        "OMS_GATEWAY_PORT": 0,
        "OMS_GATEWAY_HOST": "127.0.0.1",
        "OMS_ORDERS_ADDR": f"127.0.0.1:{free_port()}",
        "OMS_GATEWAY_DELIVERY_ENABLED": False,
        "OMS_REDIS_URL": redis_url,
        "OMS_PLATFORM_SHOP_SECRET": secret,
        "OMS_GATEWAY_ADMIN_TOKEN": token,
        "OMS_SHUTDOWN_GRACE_SECONDS": 1.0,
        **extra,
    }
    running = await start(load_settings(Settings, **overrides))
    try:
        yield HostileGateway(running, secret, token)
    finally:
        await running.stop()


async def raw_exchange(
    port: int, data: bytes, *, drip: bytes = b"", every: float = 0.25
) -> tuple[bytes, bool]:
    """Send ``data``, then ``drip`` a byte at a time; read until the server closes.

    Returns what the server answered and whether it closed the connection (rather
    than the test's bound running out).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = bytearray()

    async def talk() -> None:
        with contextlib.suppress(ConnectionError):
            writer.write(data)
            await writer.drain()
            for byte in drip:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(every)

    async def listen() -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                answer.extend(chunk)

    sender = asyncio.create_task(talk())
    closed = True
    try:
        async with asyncio.timeout(SOCKET_BOUND_SECONDS):
            await listen()
    except TimeoutError:
        closed = False
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return bytes(answer), closed


def status_of(answer: bytes) -> int:
    """The status code of the first response in ``answer`` (0 if there is none)."""
    line = answer.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[1].isdigit() else 0


class LogLines(logging.Handler):
    """Every record logged while installed, rendered with its extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(_CLIENT_LOGGERS):  # the test's own HTTP client
            self.records.append(record)

    def text(self) -> str:
        lines = []
        for record in self.records:
            extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
            lines.append(f"{record.levelname} {record.name} {record.getMessage()} {extras}")
            if record.exc_info:
                lines.append(logging.Formatter().formatException(record.exc_info))
        return "\n".join(lines)

    def at_or_above(self, level: int) -> list[logging.LogRecord]:
        return [record for record in self.records if record.levelno >= level]


_CLIENT_LOGGERS = ("httpx", "httpcore")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


@contextlib.contextmanager
def captured_logs() -> Iterator[LogLines]:
    """Capture every logger's records (DEBUG and up) while the block runs."""
    handler = LogLines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
