"""Retraining from the shipped data reproduces the shipped model (needs the dev group)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from oms_intent import compose, train
from oms_intent.classifier import DEFAULT_MODEL

pytest.importorskip("sklearn", reason="training needs scikit-learn (dev dependency group)")


def read(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        doc: dict[str, Any] = json.load(f)
    return doc


def test_composing_again_gives_the_shipped_composed_file() -> None:
    rows = compose.compose(compose.Fragments.read(compose.FRAGMENTS.read_text(encoding="utf-8")))
    shipped = compose.OUT.read_text(encoding="utf-8").splitlines()
    assert [json.dumps(r, ensure_ascii=False) for r in rows] == shipped


def test_training_again_gives_the_shipped_model(tmp_path: Path) -> None:
    out = tmp_path / "model.json.gz"
    train.train(out)
    if out.read_bytes() == DEFAULT_MODEL.read_bytes():
        return
    # Another CPU's floating point may move a weight across a rounding boundary:
    # allow one step in the last kept digit, nothing more.
    new, shipped = read(out), read(DEFAULT_MODEL)
    assert new["heads"][0]["classes"] == shipped["heads"][0]["classes"]
    assert new["features"].keys() == shipped["features"].keys()
    step = 10.0**-train.DIGITS * 1.01
    for name, row in shipped["features"].items():
        other = new["features"][name]
        assert abs(other[0] - row[0]) <= step
        for head_new, head_old in zip(other[1:], row[1:], strict=True):
            assert all(abs(a - b) <= step for a, b in zip(head_new, head_old, strict=True))
