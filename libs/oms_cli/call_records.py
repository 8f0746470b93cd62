"""Phone-call records from a call system's export: JSON lines or CSV.

Each record has ``caller``, ``time`` (ISO 8601; without an offset it is taken as
Asia/Shanghai), ``duration`` (seconds), ``agent`` and ``transcript``; an optional
``id`` (or ``call_id``) is the call system's own id. The id that makes the import
idempotent is that id, else a hash of caller, time and agent, so importing the
same file twice records each call once.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_RECORDS = 100_000
MAX_TRANSCRIPT = 4000
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
PHONE = re.compile(r"^\+?\d{5,20}$")


class CallFileError(ValueError):
    """The file as a whole cannot be read (too large, unknown format)."""


@dataclass(frozen=True)
class CallRecord:
    request_id: str
    caller: str
    time: datetime
    duration_seconds: int
    agent: str
    transcript: str


def read_calls(path: Path) -> Iterator[tuple[int, CallRecord | str]]:
    """(line or row number, record or the reason it is refused), in file order."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CallFileError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it")
    raw = _rows(path)
    for count, (number, row) in enumerate(raw, start=1):
        if count > MAX_RECORDS:
            raise CallFileError(f"{path}: more than {MAX_RECORDS} records; split it")
        yield number, row if isinstance(row, str) else parse_record(row)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, object] | str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        first = f.read(1)
        f.seek(0)
        if path.suffix.lower() == ".csv" or (first and first not in "{ \n"):
            for number, row in enumerate(csv.DictReader(f), start=2):
                yield number, dict(row)
            return
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield number, f"not JSON: {err.msg}"
                continue
            yield number, record if isinstance(record, dict) else "not a JSON object"


def parse_record(row: dict[str, object]) -> CallRecord | str:
    """A record, or why it is refused."""
    caller = re.sub(r"[\s-]", "", str(row.get("caller") or ""))
    if not PHONE.match(caller):
        return "caller must be a phone number"
    try:
        when = datetime.fromisoformat(str(row.get("time") or ""))
    except ValueError:
        return "time must be ISO 8601, e.g. 2026-09-15T10:30:00+08:00"
    if when.tzinfo is None:
        when = when.replace(tzinfo=DEFAULT_ZONE)
    try:
        duration = int(float(str(row.get("duration") or 0)))
    except ValueError:
        return "duration must be a number of seconds"
    if not 0 <= duration <= 24 * 3600:
        return "duration must be 0 to 86400 seconds"
    agent = str(row.get("agent") or "").strip()[:64]
    transcript = str(row.get("transcript") or "").strip()
    if not transcript:
        return "transcript is empty"
    if len(transcript) > MAX_TRANSCRIPT:
        return f"transcript longer than {MAX_TRANSCRIPT} characters"
    own_id = str(row.get("id") or row.get("call_id") or "").strip()
    if len(own_id) > 100:
        return "id longer than 100 characters"
    request_id = (
        f"call:{own_id}"
        if own_id
        else "call:"
        + hashlib.sha256(
            f"{caller}|{when.astimezone(UTC).isoformat()}|{agent}".encode()
        ).hexdigest()[:40]
    )
    return CallRecord(request_id, caller, when.astimezone(UTC), duration, agent, transcript)
