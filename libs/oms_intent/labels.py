"""The classes the intent model predicts and the issue code each one suggests."""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    """What the buyer wants, by the labelling guide in data/GUIDE.md."""

    RETURN_REFUND = "RETURN_REFUND"
    EXCHANGE = "EXCHANGE"
    NOT_SHIPPED = "NOT_SHIPPED"
    SHIPPING_DELAY = "SHIPPING_DELAY"
    WRONG_ITEM = "WRONG_ITEM"
    DAMAGED = "DAMAGED"
    QUESTION = "QUESTION"
    OTHER = "OTHER"


class Mood(StrEnum):
    """How the buyer sounds, from the same text."""

    CALM = "calm"
    UNHAPPY = "unhappy"
    ANGRY = "angry"


# An exchange is handled as a return (the item comes back) under the same code.
ISSUE_CODE: dict[Intent, str] = {
    Intent.RETURN_REFUND: "RET-001",
    Intent.EXCHANGE: "RET-001",
    Intent.NOT_SHIPPED: "RTS-001",
    Intent.SHIPPING_DELAY: "LOG-001",
    Intent.WRONG_ITEM: "WRG-001",
    Intent.DAMAGED: "DMG-001",
    Intent.QUESTION: "",
    Intent.OTHER: "",
}

RETURN_INTENTS = frozenset({Intent.RETURN_REFUND, Intent.EXCHANGE})
