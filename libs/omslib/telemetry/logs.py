"""JSON-lines logging on stderr, correlated with the current trace."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

# Attributes every LogRecord has; anything else came from ``extra=``.
_RECORD_FIELDS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}

_QUIET = {
    "aiosqlite": logging.WARNING,
    "alembic.runtime.migration": logging.WARNING,
    "asyncio": logging.WARNING,
    "grpc": logging.WARNING,
    "httpcore": logging.WARNING,
    "httpx": logging.WARNING,
    "opentelemetry": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    "uvicorn.access": logging.INFO,
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, service, trace_id, span_id, extras."""

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def format(self, record: logging.LogRecord) -> str:
        ctx = trace.get_current_span().get_span_context()
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "service": self.service_name,
            "trace_id": trace.format_trace_id(ctx.trace_id) if ctx.is_valid else "",
            "span_id": trace.format_span_id(ctx.span_id) if ctx.is_valid else "",
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(service_name: str, level: str) -> None:
    """Route all logging to stderr as JSON lines at ``level``; replaces existing handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service_name))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name, quiet_level in _QUIET.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(quiet_level, root.level))
    # uvicorn installs its own handlers unless started with log_config=None;
    # make its loggers propagate to ours either way.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
