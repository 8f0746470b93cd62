"""Show the services' JSON log lines as readable, coloured lines in one terminal."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

COLOURS = {"gateway": "magenta", "orders": "cyan", "inventory": "green", "aftersales": "yellow"}
LEVEL_STYLES = {"WARNING": "yellow", "ERROR": "bold red", "CRITICAL": "bold red"}
_SKIP_KEYS = {"ts", "level", "logger", "msg", "service", "trace_id", "span_id", "color_message"}


def format_line(service: str, raw: str) -> Text:
    """One log line as `HH:MM:SS service LEVEL message key=value... trace=...`."""
    text = Text()
    text.append(f"{service:<10} ", style=COLOURS.get(service, "white"))
    try:
        record = json.loads(raw)
    except ValueError:
        return text.append(raw)
    if not isinstance(record, dict):
        return text.append(raw)
    text.append(str(record.get("ts", ""))[11:19] + " ", style="dim")
    level = str(record.get("level", "INFO"))
    text.append(f"{level:<7} ", style=LEVEL_STYLES.get(level, "dim"))
    text.append(str(record.get("msg", "")))
    extras = " ".join(f"{k}={v}" for k, v in record.items() if k not in _SKIP_KEYS)
    if extras:
        text.append(" " + extras, style="dim")
    if record.get("trace_id"):
        text.append(f" trace={record['trace_id']}", style="dim blue")
    return text


class LogFollower:
    """Follows several log files from their current end and prints new lines."""

    def __init__(self, files: dict[str, Path], console: Console) -> None:
        self._files = files
        self._console = console
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-follower", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        # Earlier runs append to the same files; show only what this run writes.
        offsets = {name: p.stat().st_size if p.exists() else 0 for name, p in self._files.items()}
        while not self._stop.is_set():
            for name, path in self._files.items():
                if not path.exists():
                    continue
                with path.open("rb") as handle:
                    handle.seek(offsets[name])
                    chunk = handle.read()
                # Only whole lines are shown; a half-written line waits for its newline.
                complete = chunk[: chunk.rfind(b"\n") + 1]
                offsets[name] += len(complete)
                for line in complete.decode(errors="replace").splitlines():
                    # No wrapping: a log file or pipe gets one line per record, not 80 columns.
                    self._console.print(format_line(name, line), soft_wrap=True)
            time.sleep(0.2)
