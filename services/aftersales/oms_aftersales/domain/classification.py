"""Choosing a new ticket's issue code: rules over the text and the order's state first,
then the intent model, then the catalogue's fallback code.

The intent model is a port (``IntentClassifier``): the service wires the
offline classifier of ``oms_intent``; tests inject a deterministic one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from oms_aftersales.domain.ticket import Channel, Mood

# The model's code is used only at or above this confidence.
MODEL_MIN_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Classification:
    """What the intent model says about one message (the classifier package's result)."""

    intent: str
    code: str
    mood: str
    confidence: float


class ClassificationLike(Protocol):
    """What the service reads of a classifier's answer (``oms_intent``'s or a test's)."""

    @property
    def intent(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def mood(self) -> str: ...
    @property
    def confidence(self) -> float: ...


class IntentClassifier(Protocol):
    def classify(self, text: str) -> ClassificationLike: ...


@dataclass(frozen=True)
class Decision:
    code: str
    classified_by: str
    intent: str
    mood: Mood


@dataclass(frozen=True)
class Rule:
    name: str
    code: str
    pattern: re.Pattern[str]
    # The rule applies only while the order is in one of these states (empty: any or none).
    order_states: frozenset[str] = frozenset()


def _rx(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words), re.IGNORECASE)


NOT_SHIPPED_STATES = frozenset({"PAID", "IN_REVIEW", "ALLOCATED"})
SHIPPED_STATES = frozenset({"SHIPPED"})

# Order matters: the first match wins. Damage and wrong items beat a return wish
# ("坏了, 要退货" is a damaged item first: it is our fault and compensated so).
RULES: tuple[Rule, ...] = (
    Rule("damaged", "DMG-001", _rx("破损", "坏了", "碎了", "压坏", "damaged", "broken")),
    Rule(
        "wrong_item", "WRG-001", _rx("发错", "错发", "不是我买的", "wrong item", "wrong size sent")
    ),
    Rule(
        "not_shipped",
        "RTS-001",
        _rx("还没发货", "没发货", "不发货", "什么时候发货", "not shipped", "when.*ship"),
        NOT_SHIPPED_STATES,
    ),
    Rule(
        "in_transit",
        "LOG-001",
        _rx(
            "物流", "快递", "没收到", "还没到", "不动了", "tracking", "not arrived", "not received"
        ),
        SHIPPED_STATES,
    ),
    Rule("invoice", "INV-001", _rx("发票", "invoice")),
    Rule("return", "RET-001", _rx("退货", "退款", "退掉", "不想要了", "refund", "return it")),
)

PLATFORM_CASE_CODES = {"REFUND": "RET-001", "RETURN": "RET-001", "DISPUTE": "DSP-001"}

_MOODS = {"calm": Mood.CALM, "unhappy": Mood.UNHAPPY, "angry": Mood.ANGRY}


def classify(
    text: str,
    *,
    channel: Channel,
    order_state: str | None,
    platform_case_kind: str,
    model: IntentClassifier,
    known_codes: frozenset[str],
    fallback_code: str,
) -> Decision:
    """The issue code for a new ticket, and who chose it."""
    result: ClassificationLike = model.classify(text) if text else Classification("", "", "", 0.0)
    mood = _MOODS.get(str(result.mood).lower(), Mood.UNKNOWN)
    if channel is Channel.PLATFORM_AFTERSALE and platform_case_kind in PLATFORM_CASE_CODES:
        code = PLATFORM_CASE_CODES[platform_case_kind]
        if code in known_codes:
            return Decision(
                code, f"rule:platform_case_{platform_case_kind.lower()}", result.intent, mood
            )
    for rule in RULES:
        if rule.code not in known_codes or not rule.pattern.search(text):
            continue
        if rule.order_states and order_state not in rule.order_states:
            continue
        return Decision(rule.code, f"rule:{rule.name}", str(result.intent), mood)
    if result.code in known_codes and result.confidence >= MODEL_MIN_CONFIDENCE:
        return Decision(result.code, "model", str(result.intent), mood)
    return Decision(fallback_code, "default", str(result.intent), mood)
