"""The labelled messages: JSON lines of {"text", "intent", "mood"} under data/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from oms_intent.labels import Intent, Mood

DATA_DIR = Path(__file__).parent / "data"
TEST_FILE = DATA_DIR / "test.jsonl"
MAX_TEXT = 4000


@dataclass(frozen=True)
class Example:
    text: str
    intent: Intent
    mood: Mood


def train_files() -> list[Path]:
    """Every training file (hand-written and composed), in a fixed order."""
    return sorted(DATA_DIR.glob("train_*.jsonl"))


def load(path: Path) -> list[Example]:
    """Read one file; a bad line is an error naming the file and line, never skipped."""
    examples = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["text"]
                if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                    raise ValueError("text must be a non-empty string of at most 4000 characters")
                examples.append(Example(text, Intent(row["intent"]), Mood(row["mood"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path.name} line {number}: {exc}") from exc
    return examples


def load_all(paths: list[Path]) -> list[Example]:
    return [example for path in paths for example in load(path)]
