"""Train the intent and mood model from data/train_*.jsonl and write data/model.json.gz.

    python -m oms_intent.train            # retrain, write the model, print eval
    python -m oms_intent.train --compare  # char n-grams vs jieba words, no write

Needs the dev dependencies (scikit-learn; jieba for --compare). Deterministic: the
solver is lbfgs (no randomness) and the file is written with sorted keys, rounded
weights and a zero gzip timestamp, so the same data gives the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oms_intent.classifier import DEFAULT_MODEL, load_classifier
from oms_intent.dataset import TEST_FILE, Example, load, load_all, train_files
from oms_intent.evaluate import evaluate
from oms_intent.features import TOKENIZER, tokenize
from oms_intent.model import FORMAT

# Regularisation strength, chosen on a split of the training files only (not the test file).
C_INTENT = 10.0
C_MOOD = 4.0
MIN_DF = 2
DIGITS = 4


def fit(
    examples: list[Example], analyzer: Callable[[str], list[str]] = tokenize
) -> tuple[Any, Any, Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=MIN_DF)
    x = vectorizer.fit_transform([e.text for e in examples])
    # One BLAS thread: the same sums in the same order on every machine, and on a
    # busy shared CPU fifteen times faster than threads fighting over two cores.
    with threadpool_limits(limits=1):
        intent = LogisticRegression(C=C_INTENT, max_iter=3000, class_weight="balanced")
        intent.fit(x, [e.intent.value for e in examples])
        mood = LogisticRegression(C=C_MOOD, max_iter=3000, class_weight="balanced")
        mood.fit(x, [e.mood.value for e in examples])
    return vectorizer, intent, mood, x


def export(vectorizer: Any, heads: dict[str, Any]) -> dict[str, Any]:
    """The model as plain data: per feature its idf and the weights of every head's classes."""
    features: dict[str, list[Any]] = {}
    names = vectorizer.get_feature_names_out()
    for j, name in enumerate(names):
        row: list[Any] = [round(float(vectorizer.idf_[j]), DIGITS)]
        for clf in heads.values():
            row.append([round(float(w), DIGITS) for w in _coef(clf)[:, j]])
        features[str(name)] = row
    return {
        "format": FORMAT,
        "tokenizer": TOKENIZER,
        "heads": [
            {
                "name": name,
                "classes": [str(c) for c in _classes(clf)],
                "intercept": [round(float(b), DIGITS) for b in _intercept(clf)],
            }
            for name, clf in heads.items()
        ],
        "features": features,
    }


def _coef(clf: Any) -> Any:
    # A two-class LogisticRegression keeps one row; give each class its own column.
    return clf.coef_ if clf.coef_.shape[0] > 1 else _binary(clf.coef_)


def _binary(coef: Any) -> Any:
    import numpy as np

    return np.vstack([-coef[0] / 2, coef[0] / 2])


def _classes(clf: Any) -> list[Any]:
    return list(clf.classes_)


def _intercept(clf: Any) -> list[float]:
    b = list(clf.intercept_)
    return b if len(b) > 1 else [-b[0] / 2, b[0] / 2]


def write(doc: dict[str, Any], path: Path) -> None:
    payload = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(payload.encode("utf-8"))


def train(out: Path) -> None:
    examples = load_all(train_files())
    vectorizer, intent, mood, _ = fit(examples)
    write(export(vectorizer, {"intent": intent, "mood": mood}), out)
    print(f"trained on {len(examples)} messages, {len(vectorizer.idf_)} features -> {out}")


def compare() -> None:
    """Held-out scores of the char n-gram tokeniser against jieba words (+ char unigrams)."""
    import jieba

    from oms_intent.features import normalize

    jieba.setLogLevel(60)

    def jieba_tokens(text: str) -> list[str]:
        norm = normalize(text)
        words = [w for w in jieba.lcut(norm) if not w.isspace()]
        return words + [a + "_" + b for a, b in itertools.pairwise(words)]

    examples = load_all(train_files())
    test = load(TEST_FILE)
    for name, analyzer in (("char n-grams", tokenize), ("jieba words+bigrams", jieba_tokens)):
        vectorizer, intent, mood, _ = fit(examples, analyzer)
        x = vectorizer.transform([e.text for e in test])
        pred = intent.predict(x)
        gold = [e.intent.value for e in test]
        ret = {"RETURN_REFUND", "EXCHANGE"}
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g in ret and p in ret)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g not in ret and p in ret)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g in ret and p not in ret)
        f1 = 2 * tp / (2 * tp + fp + fn)
        acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
        mood_acc = sum(e.mood.value == p for e, p in zip(test, mood.predict(x), strict=True)) / len(
            test
        )
        print(
            f"{name:<22} intent accuracy {acc:.3f}  return F1 {f1:.3f}"
            f"  mood accuracy {mood_acc:.3f}"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true", help="compare tokenisers, write nothing")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    if args.compare:
        compare()
        return 0
    train(args.out)
    print()
    print(evaluate(load_classifier(args.out).classify, load(TEST_FILE)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
