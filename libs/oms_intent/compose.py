"""Compose training messages from hand-written fragments (data/train_composed.jsonl).

A message is an optional opener, some context, one core request, an optional
closing and mood marks, then light noise (no punctuation, emoji, repeated marks).
Every core and modifier here was written by hand; composing them multiplies the
ways they meet. The held-out test file is written apart and never built here.

    python -m oms_intent.compose   # deterministic (fixed seed)
"""

from __future__ import annotations

import json
import random
import re
import sys
from dataclasses import dataclass, field

from oms_intent.dataset import DATA_DIR
from oms_intent.labels import Intent

SEED = 20261129
PER_CORE = 5
OUT = DATA_DIR / "train_composed.jsonl"
FRAGMENTS = DATA_DIR / "fragments.txt"
# Full-width punctuation written as escapes: ruff flags the look-alike characters.
FW_COMMA, FW_STOP, FW_QUESTION = "\uff0c", "\u3002", "\uff1f"
_PUNCT = re.compile("[\uff0c\u3002\uff01\uff1f\u3001\uff5e,.!?~]")
MOODS = ("calm", "unhappy", "angry")


@dataclass
class Fragments:
    """The sections of fragments.txt: `[NAME]` headers, then one fragment a line."""

    sections: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, text: str) -> Fragments:
        frags = cls()
        current: list[str] | None = None
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = frags.sections.setdefault(line[1:-1], [])
            elif current is None:
                raise ValueError(f"fragments line {number}: text before any [SECTION]")
            else:
                current.append(line)
        return frags

    def __getitem__(self, name: str) -> list[str]:
        return self.sections[name]

    def moody(self, name: str) -> list[tuple[str, str]]:
        """A section whose lines start with a mood letter (c, u, a) and a space."""
        result = []
        for line in self[name]:
            letter, _, text = line.partition(" ")
            result.append((_MOOD_LETTER[letter], text.strip()))
        return result


_MOOD_LETTER = {"c": "calm", "u": "unhappy", "a": "angry"}


def fill(text: str, frags: Fragments, rng: random.Random) -> str:
    return text.replace("{p}", rng.choice(frags["PRODUCTS"])).replace(
        "{t}", rng.choice(frags["TIMES"])
    )


def compose_one(core: str, core_mood: str, frags: Fragments, rng: random.Random) -> tuple[str, str]:
    mood = core_mood
    parts = []
    if rng.random() < 0.35:
        parts.append(rng.choice(frags["OPENERS"]))
    parts.append(fill(core, frags, rng))
    if rng.random() < 0.3:
        tail_mood, tail = rng.choice(frags.moody("MOOD_TAILS"))
        # A calm closing never makes an unhappy message calm; a louder tail raises the mood.
        parts.append(fill(tail, frags, rng))
        mood = max(mood, tail_mood, key=MOODS.index)
    elif rng.random() < 0.3 and mood != "angry":
        parts.append(rng.choice(frags["CLOSINGS"]))
    text = rng.choice([FW_COMMA, " ", "", FW_STOP, ","]).join(parts)
    roll = rng.random()
    if roll < 0.15:
        text = _PUNCT.sub(" ", text).strip()
    elif roll < 0.25:
        text += rng.choice(frags["EMOJI_" + mood.upper()])
    elif roll < 0.3 and mood != "calm":
        text += rng.choice(["!!!", FW_QUESTION * 3, "!!", "??"])
        mood = "angry" if mood == "unhappy" and rng.random() < 0.5 else mood
    return text, mood


def compose(frags: Fragments, seed: int = SEED) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows: dict[str, dict[str, str]] = {}
    for intent in Intent:
        for mood0, core in frags.moody(intent.value):
            rows.setdefault(fill(core, frags, rng), {"intent": intent.value, "mood": mood0})
            for _ in range(PER_CORE):
                text, mood = compose_one(core, mood0, frags, rng)
                rows.setdefault(text, {"intent": intent.value, "mood": mood})
    return [{"text": t, **labels} for t, labels in rows.items()]


def main() -> int:
    rows = compose(Fragments.read(FRAGMENTS.read_text(encoding="utf-8")))
    with OUT.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"composed {len(rows)} messages -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
