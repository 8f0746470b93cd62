"""The shipped intent model: loads offline, reads known messages right, ignores negations."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from oms_intent import (
    Classification,
    Intent,
    ModelFileError,
    Mood,
    load_classifier,
    load_default_classifier,
)
from oms_intent.classifier import DEFAULT_MODEL, IntentClassifier
from oms_intent.features import MAX_CHARS


@pytest.fixture(scope="module")
def clf() -> IntentClassifier:
    return load_default_classifier()


def test_the_issue_example_is_a_return_with_its_code(clf: IntentClassifier) -> None:
    c = clf.classify("这个不想要了\uff0c怎么退货")
    assert c.intent is Intent.RETURN_REFUND
    assert c.code == "RET-001"
    assert c.is_return_intent and clf.is_return_intent("这个不想要了\uff0c怎么退货")
    assert 0.5 < c.confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "intent", "code"),
    [
        ("我要退款", Intent.RETURN_REFUND, "RET-001"),
        ("申请tk 拍错了", Intent.RETURN_REFUND, "RET-001"),
        ("7天无理由退货", Intent.RETURN_REFUND, "RET-001"),
        ("I want a refund please", Intent.RETURN_REFUND, "RET-001"),
        ("小了 能换大一码吗", Intent.EXCHANGE, "RET-001"),
        ("下单三天了怎么还没发货", Intent.NOT_SHIPPED, "RTS-001"),
        ("快递五天没更新了", Intent.SHIPPING_DELAY, "LOG-001"),
        ("我买的黑色 发来的是白色", Intent.WRONG_ITEM, "WRG-001"),
        ("杯子收到就碎了", Intent.DAMAGED, "DMG-001"),
        ("能开发票吗", Intent.QUESTION, ""),
        ("谢谢 东西很好", Intent.OTHER, ""),
    ],
)
def test_known_messages_get_their_intent_and_code(
    clf: IntentClassifier, text: str, intent: Intent, code: str
) -> None:
    c = clf.classify(text)
    assert (c.intent, c.code) == (intent, code), c


@pytest.mark.parametrize(
    "text",
    [
        "不是要退货\uff0c只是问问",
        "我不退货 就问问怎么洗",
        "支持七天无理由吗 还没买想先问问",
    ],
)
def test_a_negated_or_hypothetical_return_is_not_return_intent(
    clf: IntentClassifier, text: str
) -> None:
    c = clf.classify(text)
    assert not c.is_return_intent, c
    assert c.intent is Intent.QUESTION


def test_mood_follows_the_tone_not_the_topic(clf: IntentClassifier) -> None:
    assert clf.classify("麻烦帮我退一下款 谢谢").mood is Mood.CALM
    assert clf.classify("垃圾东西 骗子 赶紧退钱 不然投诉").mood is Mood.ANGRY
    assert clf.classify("等了一个礼拜还没发货 太失望了").mood is not Mood.CALM


def test_a_long_message_is_read_at_both_ends_only(clf: IntentClassifier) -> None:
    story = "上周买的 家里人说颜色不好看 我自己也觉得一般 " * 50_000
    c = clf.classify(story + "所以还是退了吧 麻烦给个退货地址")
    assert c.intent is Intent.RETURN_REFUND
    half = MAX_CHARS // 2
    huge = "谢谢东西很好" * 100_000 + "我要退款" * 100
    assert clf.classify(huge) == clf.classify(huge[:half] + " " + huge[-half:])


def test_a_message_with_nothing_known_is_other_with_no_confidence(clf: IntentClassifier) -> None:
    for text in ("", "   ", "\u0436\u0436\u0436"):
        assert clf.classify(text) == Classification(Intent.OTHER, "", Mood.CALM, 0.0, 0.0)


def test_as_dict_has_the_cli_fields(clf: IntentClassifier) -> None:
    row = clf.classify("怎么还不发货").as_dict()
    assert set(row) == {"intent", "code", "mood", "confidence"}
    assert row["intent"] == "NOT_SHIPPED" and row["code"] == "RTS-001"


def test_a_missing_or_foreign_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="cannot read"):
        load_classifier(tmp_path / "absent.json.gz")
    with gzip.open(DEFAULT_MODEL, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    doc["tokenizer"] = "jieba"
    foreign = tmp_path / "foreign.json.gz"
    with gzip.open(foreign, "wt", encoding="utf-8") as f:
        json.dump(doc, f)
    with pytest.raises(ModelFileError, match="tokeniser 'jieba'"):
        load_classifier(foreign)
