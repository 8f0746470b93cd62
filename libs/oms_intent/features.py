"""Text to features: the one tokeniser shared by training and scoring.

Character n-grams need no dictionary, survive typos and mixed Chinese/English,
and measured better on the held-out split than jieba words (see README).
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from oms_intent.hant import TO_SIMPLIFIED

# Bounding the input bounds the scoring time. A long message is mostly story;
# the request sits at its start or its end, so both ends are kept.
MAX_CHARS = 400
NGRAM_MIN = 1
NGRAM_MAX = 3
TOKENIZER = f"hant-folded char{NGRAM_MIN}-{NGRAM_MAX}+latin-words+latin-bigrams"

_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_LATIN_WORD = re.compile(r"[a-z]+")
_REPEATS = re.compile(r"(.)\1{2,}")


def bound(text: str) -> str:
    """At most MAX_CHARS characters: the whole text, or its first and last halves."""
    if len(text) <= MAX_CHARS:
        return text
    half = MAX_CHARS // 2
    return text[:half] + " " + text[-half:]


def normalize(text: str) -> str:
    """Full-width to half-width, traditional to simplified, lower case, digits folded,
    runs of a character cut to 3."""
    text = unicodedata.normalize("NFKC", bound(text)).lower().translate(TO_SIMPLIFIED)
    text = _DIGITS.sub("0", text)
    text = _REPEATS.sub(r"\1\1\1", text)
    return _SPACES.sub(" ", text).strip()


def tokenize(text: str) -> list[str]:
    """The features of one message: character n-grams, Latin words and word pairs.

    Word pairs carry English negation ("no refund", "not return") that single
    words and character n-grams miss.
    """
    norm = normalize(text)
    tokens = [
        norm[i : i + n]
        for n in range(NGRAM_MIN, NGRAM_MAX + 1)
        for i in range(len(norm) - n + 1)
        if not norm[i : i + n].isspace()
    ]
    words = _LATIN_WORD.findall(norm)
    tokens.extend("w:" + word for word in words)
    tokens.extend(f"w2:{a} {b}" for a, b in itertools.pairwise(words))
    return tokens
