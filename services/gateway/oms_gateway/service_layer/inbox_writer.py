"""Group commit for the inbox: pushes arriving together are written in one transaction.

Each request still waits until *its* entries are committed before it is answered;
only the commit is shared. At peak this turns one commit (and one connection
checkout) per push into one per batch, which is what lets a single SQLite writer or a
busy PostgreSQL keep up. The writer task exists only while there is work.

If a batch fails, its pushes are written one by one, so one entry the database refuses
does not fail the others; a database outage fails them all (the callers answer 503).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from omslib.db import UnitOfWork

from oms_gateway.adapters.repository import InboxRepository
from oms_gateway.domain.inbox import InboxEntry

Found = list[str | None]  # per entry: None if stored now, else the id stored before
_Waiter = tuple[list[InboxEntry], "asyncio.Future[Found]"]


class InboxWriter:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], *, max_batch: int = 256) -> None:
        self._uow_factory = uow_factory
        self._max_batch = max_batch
        self._pending: list[_Waiter] = []
        self._task: asyncio.Task[None] | None = None

    async def store(self, entries: list[InboxEntry]) -> Found:
        future: asyncio.Future[Found] = asyncio.get_running_loop().create_future()
        self._pending.append((entries, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="inbox-writer")
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the requests of this loop turn join the batch
        while self._pending:
            batch = [w for w in self._pending[: self._max_batch] if not w[1].done()]
            del self._pending[: self._max_batch]  # done = its request gave up (503) already
            if not batch:
                continue
            try:
                results = await self._write([entries for entries, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0][1], exc)
                    continue
                for waiter in batch:
                    await self._write_alone(waiter)
                continue
            for (_, future), found in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(found)

    async def _write_alone(self, waiter: _Waiter) -> None:
        entries, future = waiter
        if future.done():
            return
        try:
            (found,) = await self._write([entries])
        except Exception as exc:
            _fail(future, exc)
            return
        if not future.done():
            future.set_result(found)

    async def _write(self, groups: list[list[InboxEntry]]) -> list[Found]:
        uow = self._uow_factory()
        async with uow:
            repo = InboxRepository(uow.session)
            # One multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING for the whole batch.
            found = await repo.add_many_if_absent([entry for group in groups for entry in group])
            await uow.commit()
        results: list[Found] = []
        start = 0
        for group in groups:
            results.append(found[start : start + len(group)])
            start += len(group)
        return results


def _fail(future: asyncio.Future[Found], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
