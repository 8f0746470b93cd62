"""Intake of one platform push: verify, validate, store durably, then acknowledge.

Nothing is acknowledged before the inbox row is committed. Pushes refused for
their signature or body are never processed; ``rejected_pushes`` keeps bounded
metadata of each (time, platform, source address, reason, body length and hash,
a few header names) for support, never the headers or the body.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from omslib.clock import Clock
from omslib.db import UnitOfWork
from omslib.errors import DomainError
from omslib.ids import new_id
from sqlalchemy.exc import SQLAlchemyError

from oms_gateway.adapters.repository import InboxRepository, RejectedPushRepository
from oms_gateway.domain.errors import InboxUnavailable, InvalidPayload, Unauthenticated
from oms_gateway.domain.inbox import InboxEntry, RawPush, RejectedPush
from oms_gateway.domain.snapshot import Translation
from oms_gateway.platforms.base import PlatformAdapter
from oms_gateway.service_layer.inbox_writer import InboxWriter
from oms_gateway.service_layer.push_gate import PushGate

log = logging.getLogger(__name__)

# Never keep credentials that may ride along on a push.
_DROPPED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True)
class IntakeResult:
    inbox_id: str
    duplicate: bool
    translation: Translation


class IntakeService:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        on_stored: Callable[[], None] = lambda: None,
        store_timeout_seconds: float = 10.0,
        writer: InboxWriter | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._writer = writer
        self._clock = clock
        self._on_stored = on_stored
        self._store_timeout = store_timeout_seconds

    async def receive(
        self,
        adapter: PlatformAdapter,
        push: RawPush,
        *,
        traceparent: str | None,
        source: str | None = None,
        gate: PushGate | None = None,
    ) -> IntakeResult:
        """Store the push in the inbox or raise why not (nothing stored in the inbox then).

        ``gate`` (pushes over HTTP) rate-limits around the signature check: failures per
        ``source`` address before they are recorded, the platform's budget after.
        """
        push = RawPush(
            platform=push.platform,
            headers={k: v for k, v in push.headers.items() if k not in _DROPPED_HEADERS},
            body=push.body,
        )
        try:
            adapter.verify(push)
        except (Unauthenticated, InvalidPayload) as err:
            if gate is not None:
                await gate.refused(source)  # over the limit: 429, and nothing recorded
            await self._record_rejection(push, err, source)
            raise
        if gate is not None:
            await gate.verified(push.platform)
        try:
            translation = adapter.translate(push)
        except InvalidPayload as err:
            await self._record_rejection(push, err, source)
            raise
        now = self._clock.now()
        # One entry per message when a push carries several (Douyin); usually just one.
        entries = [
            InboxEntry(
                id=new_id(int(now.timestamp() * 1000)),
                platform=push.platform,
                event_id=event_id,
                received_at=now,
                body=push.body,
                headers=dict(push.headers),
                traceparent=traceparent,
                next_attempt_at=now,
            )
            for event_id in translation.inbox_event_ids
        ]
        try:
            async with asyncio.timeout(self._store_timeout):
                found = await self._store(entries)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("inbox store failed", extra={"platform": push.platform, "error": repr(exc)})
            raise InboxUnavailable(
                "the push could not be stored durably; it was not accepted, retry later"
            ) from exc
        stored_any = any(existing is None for existing in found)
        if stored_any:
            self._on_stored()
        return IntakeResult(
            inbox_id=found[0] or entries[0].id, duplicate=not stored_any, translation=translation
        )

    async def _store(self, entries: list[InboxEntry]) -> list[str | None]:
        """Per entry: None if stored now, else the id it was stored under before."""
        if self._writer is not None:
            return await self._writer.store(entries)
        uow = self._uow_factory()
        async with uow:
            repo = InboxRepository(uow.session)
            found = await repo.add_many_if_absent(entries)
            await uow.commit()
        return found

    async def _record_rejection(self, push: RawPush, err: DomainError, source: str | None) -> None:
        rejected = RejectedPush.of(
            push,
            id=new_id(),
            reason=err.reason,
            message=err.message,
            source=source,
            received_at=self._clock.now(),
        )
        try:
            async with asyncio.timeout(self._store_timeout):
                uow = self._uow_factory()
                async with uow:
                    await RejectedPushRepository(uow.session).add(rejected)
                    await uow.commit()
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            # The refusal stands either way; only the support record is lost.
            log.error(
                "could not record rejected push",
                extra={"platform": push.platform, "reason": err.reason, "error": repr(exc)},
            )
