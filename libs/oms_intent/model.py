"""A linear text model exported from training, scored with plain Python.

The file holds, per feature, its idf and one weight per class for each head
(intent, mood). Scoring repeats the training vectoriser exactly: sublinear term
frequency times idf, L2-normalised, then a softmax over the linear scores.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oms_intent.features import TOKENIZER, tokenize

FORMAT = 1


class ModelFileError(ValueError):
    """The model file is missing, corrupt, or made for another tokeniser."""


@dataclass(frozen=True)
class Head:
    """One classification head: its classes and their intercepts."""

    name: str
    classes: tuple[str, ...]
    intercept: tuple[float, ...]


@dataclass(frozen=True)
class Scores:
    """A probability per class of one head, best first."""

    ranked: tuple[tuple[str, float], ...]

    @property
    def best(self) -> tuple[str, float]:
        return self.ranked[0]


class LinearModel:
    """Scores a message for every head in one pass over its features."""

    def __init__(self, heads: list[Head], weights: dict[str, tuple[float, list[list[float]]]]):
        self.heads = heads
        # feature -> (idf, [weights of head 0], [weights of head 1], ...)
        self._weights = weights

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                doc: dict[str, Any] = json.load(f)
        except (OSError, EOFError, ValueError) as exc:
            raise ModelFileError(f"cannot read intent model {path}: {exc}") from exc
        if doc.get("format") != FORMAT or doc.get("tokenizer") != TOKENIZER:
            raise ModelFileError(
                f"intent model {path} is format {doc.get('format')!r} with tokeniser "
                f"{doc.get('tokenizer')!r}; this code reads format {FORMAT} with {TOKENIZER!r}"
            )
        heads = [Head(h["name"], tuple(h["classes"]), tuple(h["intercept"])) for h in doc["heads"]]
        weights = {feat: (row[0], row[1:]) for feat, row in doc["features"].items()}
        return cls(heads, weights)

    def score(self, text: str) -> dict[str, Scores]:
        """Probabilities per head; empty when no feature of the text is known to the model."""
        counts = Counter(t for t in tokenize(text) if t in self._weights)
        if not counts:
            return {}
        vector = {t: (1.0 + math.log(c)) * self._weights[t][0] for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        result: dict[str, Scores] = {}
        for h, head in enumerate(self.heads):
            logits = list(head.intercept)
            for token, value in vector.items():
                for k, w in enumerate(self._weights[token][1][h]):
                    logits[k] += value / norm * w
            result[head.name] = Scores(_softmax_ranked(head.classes, logits))
        return result


def _softmax_ranked(classes: tuple[str, ...], logits: list[float]) -> tuple[tuple[str, float], ...]:
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    probs = sorted(zip(classes, (e / total for e in exps), strict=True), key=lambda p: -p[1])
    return tuple(probs)
