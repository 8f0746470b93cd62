"""Trace export that says once when the collector is unreachable, backs off, and says
when it recovers.

The OTLP exporters log every failed batch (and every retry inside one), so a service
whose collector is absent logged errors every few seconds even when idle: background
loops make spans too. This wrapper lets the first failure be logged in full (the
exporter's own lines say what is wrong: refused, bad certificate, 401...), keeps the
exporter's lines quiet after that, stops calling the collector for a growing pause
(1 s doubling up to BACKOFF_CAP_SECONDS), dropping the batches meanwhile, and logs
one line when an export succeeds again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from omslib.retry import Backoff

log = logging.getLogger(__name__)

#: The loggers of the exporters we wrap (the OTLP/gRPC and OTLP/HTTP ones).
EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
)
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 300.0


class ReportingExporter(SpanExporter):
    """Wraps an exporter; see the module docstring."""

    def __init__(
        self,
        inner: SpanExporter,
        destination: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        base_seconds: float = BACKOFF_BASE_SECONDS,
        cap_seconds: float = BACKOFF_CAP_SECONDS,
    ) -> None:
        self._inner = inner
        self._destination = destination
        self._clock = clock
        self._backoff = Backoff(first=base_seconds, cap=cap_seconds)
        self._failures = 0
        self._dropped = 0
        self._retry_at = 0.0
        self._quiet = _QuietWhile(self)
        self._lock = threading.Lock()  # exports run on the batch processor's thread

    @property
    def failing(self) -> bool:
        return self._failures > 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            if self._failures and self._clock() < self._retry_at:
                self._dropped += len(spans)
                return SpanExportResult.FAILURE
            with self._quiet:
                result = self._inner.export(spans)
            if result is SpanExportResult.SUCCESS:
                self._recovered()
            else:
                self._failed(len(spans))
            return result

    def _failed(self, count: int) -> None:
        self._failures += 1
        self._dropped += count
        self._retry_at = self._clock() + self._backoff.seconds(self._failures)
        if self._failures == 1:
            log.warning(
                "cannot export traces to %s; dropping spans and trying again with a growing "
                "pause (up to %d s) until it answers; nothing more is logged until then",
                self._destination,
                int(self._backoff.cap),
            )

    def _recovered(self) -> None:
        if self._failures:
            log.warning(
                "trace export to %s works again; %d spans were dropped while it did not",
                self._destination,
                self._dropped,
            )
        self._failures, self._dropped, self._retry_at = 0, 0, 0.0

    def shutdown(self) -> None:
        with self._quiet:
            self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


class _QuietWhile(logging.Filter):
    """Drops the wrapped exporter's log lines while its failure is already reported."""

    def __init__(self, exporter: ReportingExporter) -> None:
        super().__init__()
        self._exporter = exporter

    def __enter__(self) -> None:
        for name in EXPORTER_LOGGERS:
            logging.getLogger(name).addFilter(self)

    def __exit__(self, *_: object) -> None:
        for name in EXPORTER_LOGGERS:
            logging.getLogger(name).removeFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        return not self._exporter.failing
