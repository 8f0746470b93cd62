"""Structured settings: one environment variable holds JSON, a pydantic type checks it.

A map or list in an environment variable is written as JSON and validated by the
field's type (``dict[str, Annotated[int, Field(ge=15)]]``, a model, a list), never by
a hand-written ``k=v,k=v`` parser. ``json_from_env`` is the one place the text is
decoded, so every such variable fails the same way: the message names the JSON form
to use and never repeats the value (it may hold a token).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

#: A key of a per-channel map: a lower-case name as used in resource names and URLs.
ChannelName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


def json_from_env(example: str) -> BeforeValidator:
    """Decodes a field's JSON text: ``Annotated[T, NoDecode, json_from_env('{"jd": 15}')]``.

    ``NoDecode`` stops pydantic-settings decoding the text itself (its error would not
    say what to write). Text is decoded; values given in code (dicts, lists, models)
    pass through to the type. Blank text is the empty map or list, as if unset.
    """
    empty: object = [] if example.lstrip().startswith("[") else {}

    def decode(value: object) -> object:
        if not isinstance(value, str | bytes):
            return value
        if not value.strip():
            return type(empty)()  # a fresh one: the default must not be shared
        try:
            return json.loads(value, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            # exc.msg and the position only: the document itself may carry a secret.
            raise ValueError(
                f"not JSON ({exc.msg} at character {exc.pos}); write it as JSON, e.g. {example}"
            ) from None

    return BeforeValidator(decode)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # A key given twice is a mistake json.loads would hide (the last one wins).
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"{key!r} is named twice")
        seen[key] = value
    return seen


def known_keys(known: Collection[str], what: str = "platform") -> AfterValidator:
    """Refuses a map naming a key outside ``known`` (a typo would be silently unused)."""
    choices = ", ".join(sorted(known))

    def check(value: dict[str, object]) -> dict[str, object]:
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"unknown {what} {', '.join(unknown)}; one of {choices}")
        return value

    return AfterValidator(check)
