"""Feed-silence alerts: a platform that has sent pushes and then stays silent longer than
its own rhythm allows at this time of day (``domain.feed_rhythm``; never less than the
``silence`` floor) raises ``PLATFORM_FEED_SILENT`` once per silence.

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
from datetime import datetime, timedelta

from omslib.clock import Clock
from omslib.ids import new_id

from oms_gateway.adapters.alerts_repository import AlertRepository
from oms_gateway.adapters.unit_of_work import GatewayUnitOfWork
from oms_gateway.domain.alerts import PLATFORM_FEED_SILENT, Alert, AlertSeverity
from oms_gateway.domain.feed_rhythm import FeedRhythm, time_of_day_windows
from oms_gateway.service_layer.alert_webhook import AlertWebhook

log = logging.getLogger(__name__)

#: Pushes counted per window at most: enough to tell a busy feed (whose threshold is
#: the floor anyway) without scanning a promotion's worth of rows every check.
COUNT_CAP = 10_000


class FeedMonitor:
    def __init__(
        self,
        uow_factory: Callable[[], GatewayUnitOfWork],
        clock: Clock,
        platforms: Callable[[], Sequence[str]],
        *,
        silence: timedelta = timedelta(minutes=3),
        check_every_seconds: float = 30.0,
        webhook: AlertWebhook | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._platforms = platforms
        self._silence = silence
        self._check_every = check_every_seconds
        self._webhook = webhook
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> list[Alert]:
        """Raise an alert for each platform silent past the threshold; returns those raised."""
        raised: list[Alert] = []
        for platform in self._platforms():
            alert = await self._check_platform(platform)
            if alert is not None:
                raised.append(alert)
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
                return None  # never active, or not silent past the floor
            rhythm = await self._rhythm(repo, platform, now)
            threshold = rhythm.silence_threshold(self._silence)
            silent_for = now - last
            if threshold is None or silent_for <= threshold:
                return None  # no rhythm yet, or a gap this feed has at this time of day
            usual = int(rhythm.usual_gap.total_seconds()) if rhythm.usual_gap else 0
            alert = Alert(
                id=new_id(int(now.timestamp() * 1000)),
                code=PLATFORM_FEED_SILENT,
                subject=platform,
                episode=last.isoformat(),
                message=(
                    f"no push from {platform} for {int(silent_for.total_seconds())} s "
                    f"(threshold {int(threshold.total_seconds())} s: it usually pushes every "
                    f"{usual} s at this time of day); last one at {last.isoformat()}: "
                    "check the platform's webhook settings and our endpoint"
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
                    "threshold_seconds": int(threshold.total_seconds()),
                    "usual_gap_seconds": usual,
                },
            )
            first = await uow.raise_alert(alert)
            await uow.commit()
        return alert if first else None

    async def _rhythm(self, repo: AlertRepository, platform: str, now: datetime) -> FeedRhythm:
        first = await repo.first_received_at(platform)
        pushes, observed = 0, timedelta(0)
        for start, end in time_of_day_windows(now, first or now):
            pushes += await repo.count_received(platform, start, end, at_most=COUNT_CAP)
            observed += end - start
        return FeedRhythm(pushes, observed)

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
