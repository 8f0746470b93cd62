"""Return intent and mood of buyer messages (Chinese, English, mixed), offline on CPU.

from oms_intent import load_default_classifier
c = load_default_classifier().classify("这个不想要了 怎么退货")
c.intent, c.code, c.mood, c.confidence, c.is_return_intent
"""

from oms_intent.classifier import (
    Classification,
    IntentClassifier,
    load_classifier,
    load_default_classifier,
)
from oms_intent.labels import ISSUE_CODE, Intent, Mood
from oms_intent.model import ModelFileError

__all__ = [
    "ISSUE_CODE",
    "Classification",
    "Intent",
    "IntentClassifier",
    "ModelFileError",
    "Mood",
    "load_classifier",
    "load_default_classifier",
]
