"""Precision, recall and F1 per class of a classifier on labelled messages (`make eval`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from oms_intent.classifier import (
    DEFAULT_MODEL,
    Classification,
    load_classifier,
)
from oms_intent.dataset import TEST_FILE, Example, load
from oms_intent.labels import RETURN_INTENTS


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


def scores(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> list[ClassScore]:
    result = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result.append(ClassScore(label, precision, recall, f1, tp + fn))
    return result


def report(title: str, rows: list[ClassScore], accuracy: float) -> str:
    lines = [title, f"  {'class':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
    for r in rows:
        lines.append(
            f"  {r.label:<16}{r.precision:>10.3f}{r.recall:>10.3f}{r.f1:>10.3f}{r.support:>9}"
        )
    scored = [r for r in rows if r.support]
    macro = sum(r.f1 for r in scored) / len(scored) if scored else 0.0
    if len(rows) > 1:
        lines.append(f"  {'macro f1':<16}{macro:>30.3f}")
    lines.append(f"  {'accuracy':<16}{accuracy:>30.3f}")
    return "\n".join(lines)


def evaluate(classify: Callable[[str], Classification], examples: list[Example]) -> str:
    """The full report: intent per class, return intent as one class, mood per class."""
    predictions = [classify(e.text) for e in examples]
    n = len(examples) or 1
    gold_intent = [e.intent.value for e in examples]
    pred_intent = [p.intent.value for p in predictions]
    intent_labels = sorted({*gold_intent, *pred_intent})
    gold_ret = ["return" if e.intent in RETURN_INTENTS else "other" for e in examples]
    pred_ret = ["return" if p.is_return_intent else "other" for p in predictions]
    gold_mood = [e.mood.value for e in examples]
    pred_mood = [p.mood.value for p in predictions]
    return "\n\n".join(
        [
            report(
                f"intent ({len(examples)} held-out messages)",
                scores(gold_intent, pred_intent, intent_labels),
                sum(g == p for g, p in zip(gold_intent, pred_intent, strict=True)) / n,
            ),
            report(
                "return intent (RETURN_REFUND or EXCHANGE) vs anything else",
                scores(gold_ret, pred_ret, ["return"]),
                sum(g == p for g, p in zip(gold_ret, pred_ret, strict=True)) / n,
            ),
            report(
                "mood",
                scores(gold_mood, pred_mood, ["calm", "unhappy", "angry"]),
                sum(g == p for g, p in zip(gold_mood, pred_mood, strict=True)) / n,
            ),
        ]
    )


def main(argv: list[str]) -> int:
    model = Path(argv[1]) if len(argv) > 1 else DEFAULT_MODEL
    data = Path(argv[2]) if len(argv) > 2 else TEST_FILE
    classifier = load_classifier(model)
    print(f"model {model.name}, held-out file {data.name}\n")
    print(evaluate(classifier.classify, load(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
