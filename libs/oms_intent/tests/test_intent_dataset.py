"""The data set behind the model, and the held-out scores `make eval` prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from oms_intent import Intent, load_default_classifier
from oms_intent.dataset import TEST_FILE, load, load_all, train_files
from oms_intent.evaluate import evaluate, scores


def test_the_training_set_has_thousands_of_messages_of_every_intent() -> None:
    train = load_all(train_files())
    assert len(train) >= 3000
    assert {e.intent for e in train} == set(Intent)


def test_no_held_out_message_is_in_the_training_set() -> None:
    train = {e.text.strip() for e in load_all(train_files())}
    test = load(TEST_FILE)
    assert len(test) >= 300 and {e.intent for e in test} == set(Intent)
    assert [e.text for e in test if e.text.strip() in train] == []


def test_return_intent_f1_on_the_held_out_split_meets_the_target() -> None:
    clf = load_default_classifier()
    test = load(TEST_FILE)
    gold = ["r" if e.intent in (Intent.RETURN_REFUND, Intent.EXCHANGE) else "-" for e in test]
    pred = ["r" if clf.classify(e.text).is_return_intent else "-" for e in test]
    (ret,) = scores(gold, pred, ["r"])
    assert ret.f1 >= 0.90, ret


def test_the_report_names_every_class_with_its_scores() -> None:
    report = evaluate(load_default_classifier().classify, load(TEST_FILE))
    for label in [*(i.value for i in Intent), "return", "calm", "unhappy", "angry"]:
        assert f"  {label} " in report
    assert "precision" in report and "recall" in report and "f1" in report


def test_scores_are_precision_recall_and_f1() -> None:
    (a,) = scores(["a", "a", "b", "b"], ["a", "b", "a", "b"], ["a"])
    assert (a.precision, a.recall, a.f1, a.support) == (0.5, 0.5, 0.5, 2)


def test_a_bad_line_names_its_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "intent": "EXCHANGE", "mood": "calm"}\n{"text": "x"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl line 2"):
        load(bad)
