"""Feed-silence alerts: a platform that has sent pushes and then stays silent longer than
a threshold raises ``PLATFORM_FEED_SILENT`` once per silence.

Raising an alert means: a row in ``alerts`` (unique per platform and silence, so
replicas and repeated checks raise it once) and, in the same transaction, an
``oms.events.v1.Alert`` event in the outbox (the relay publishes it on
``oms.alerts``); an ERROR log line with ``code=PLATFORM_FEED_SILENT``; and a POST
to the optional alert webhook. Activity is read from the inbox itself (the newest
``received_at`` per platform), so it is shared by every replica and survives
restarts. Time comes from the injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from omslib.clock import Clock
from omslib.db import UnitOfWork
from omslib.ids import new_id
from omslib.outbox import OutboxNotifier

from oms_gateway.adapters.alerts_repository import AlertRepository
from oms_gateway.domain.alerts import PLATFORM_FEED_SILENT, Alert, AlertSeverity
from oms_gateway.service_layer.alert_webhook import AlertWebhook

log = logging.getLogger(__name__)


class FeedMonitor:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        platforms: Callable[[], Sequence[str]],
        *,
        silence: timedelta = timedelta(minutes=3),
        check_every_seconds: float = 30.0,
        webhook: AlertWebhook | None = None,
        outbox_notifier: OutboxNotifier | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._platforms = platforms
        self._silence = silence
        self._check_every = check_every_seconds
        self._webhook = webhook
        self._outbox_notifier = outbox_notifier
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> list[Alert]:
        """Raise an alert for each platform silent past the threshold; returns those raised."""
        raised: list[Alert] = []
        for platform in self._platforms():
            alert = await self._check_platform(platform)
            if alert is not None:
                raised.append(alert)
        if raised and self._outbox_notifier is not None:
            self._outbox_notifier.notify()  # publish the committed alert events now
        for alert in raised:
            log.error(
                alert.message,
                extra={"code": alert.code, "platform": alert.subject, "alert_id": alert.id},
            )
            await self._notify(alert)
        return raised

    async def _check_platform(self, platform: str) -> Alert | None:
        now = self._clock.now()
        uow = self._uow_factory()
        async with uow:
            repo = AlertRepository(uow.session)
            last = await repo.last_received_at(platform)
            if last is None or now - last <= self._silence:
                return None  # never active, or not silent long enough
            silent_for = now - last
            alert = Alert(
                id=new_id(int(now.timestamp() * 1000)),
                code=PLATFORM_FEED_SILENT,
                subject=platform,
                episode=last.isoformat(),
                message=(
                    f"no push from {platform} for {int(silent_for.total_seconds())} s "
                    f"(threshold {int(self._silence.total_seconds())} s); last one at "
                    f"{last.isoformat()}: check the platform's webhook settings and our endpoint"
                ),
                raised_at=now,
                platform=platform,
                resource=f"platforms/{platform}",
                # Every order of the platform may be missing until someone looks.
                severity=AlertSeverity.CRITICAL,
                details={
                    "platform": platform,
                    "last_push_at": last.isoformat(),
                    "silent_for_seconds": int(silent_for.total_seconds()),
                    "threshold_seconds": int(self._silence.total_seconds()),
                },
            )
            first = await repo.add_if_absent(alert)
            await uow.commit()
        return alert if first else None

    async def _notify(self, alert: Alert) -> None:
        if self._webhook is None:
            return
        if await self._webhook.send(alert.payload()):
            uow = self._uow_factory()
            async with uow:
                await AlertRepository(uow.session).mark_webhook_delivered(
                    alert.id, self._clock.now()
                )
                await uow.commit()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="feed-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._check_every)
            try:
                await self.check()
            except Exception:
                log.exception("feed-silence check failed; will try again")
