"""Return intent and mood of a buyer's message, offline, from the shipped model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from oms_intent.labels import ISSUE_CODE, RETURN_INTENTS, Intent, Mood
from oms_intent.model import LinearModel

DEFAULT_MODEL = Path(__file__).parent / "data" / "model.json.gz"


@dataclass(frozen=True)
class Classification:
    """What a message asks for, the issue code it suggests, and the buyer's mood.

    `code` is "" when no ticket code fits (a plain question, thanks...).
    `confidence` is the model's probability of `intent` (0..1);
    `mood_confidence` the same for `mood`.
    """

    intent: Intent
    code: str
    mood: Mood
    confidence: float
    mood_confidence: float

    @property
    def is_return_intent(self) -> bool:
        """The buyer wants to send the item back or get money back (return, refund, exchange)."""
        return self.intent in RETURN_INTENTS

    def as_dict(self) -> dict[str, str | float]:
        return {
            "intent": self.intent.value,
            "code": self.code,
            "mood": self.mood.value,
            "confidence": round(self.confidence, 3),
        }


class IntentClassifier:
    """Classifies buyer messages with a linear model over character n-grams."""

    def __init__(self, model: LinearModel):
        self._model = model

    def classify(self, text: str) -> Classification:
        scores = self._model.score(text)
        if not scores:
            # Nothing the model knows (empty, emoji it never saw, another script): no guess.
            return Classification(Intent.OTHER, "", Mood.CALM, 0.0, 0.0)
        intent_name, confidence = scores["intent"].best
        mood_name, mood_confidence = scores["mood"].best
        intent = Intent(intent_name)
        return Classification(
            intent=intent,
            code=ISSUE_CODE[intent],
            mood=Mood(mood_name),
            confidence=confidence,
            mood_confidence=mood_confidence,
        )

    def is_return_intent(self, text: str) -> bool:
        return self.classify(text).is_return_intent


def load_classifier(path: Path) -> IntentClassifier:
    """Load a model file; raises ModelFileError when it is missing or unreadable."""
    return IntentClassifier(LinearModel.load(path))


@cache
def load_default_classifier() -> IntentClassifier:
    """The model shipped in the package, loaded once per process."""
    return load_classifier(DEFAULT_MODEL)
