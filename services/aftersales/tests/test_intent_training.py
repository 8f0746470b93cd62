"""Retraining from the shipped data reproduces the shipped model (needs the dev group)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from oms_aftersales.intent import compose, train
from oms_aftersales.intent.classifier import DEFAULT_MODEL

pytest.importorskip("sklearn", reason="training needs scikit-learn (dev dependency group)")


def test_composing_again_gives_the_shipped_composed_file() -> None:
    rows = compose.compose(compose.Fragments.read(compose.FRAGMENTS.read_text(encoding="utf-8")))
    shipped = compose.OUT.read_text(encoding="utf-8").splitlines()
    assert [json.dumps(r, ensure_ascii=False) for r in rows] == shipped


def test_training_again_gives_the_shipped_model_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "model.json.gz"
    train.train(out)
    assert out.read_bytes() == DEFAULT_MODEL.read_bytes()
