"""The parameter text that Taobao (Qimen) and JD (JOS) sign."""

from __future__ import annotations

from collections.abc import Mapping


def sorted_name_values(params: Mapping[str, str]) -> str:
    """Every non-empty parameter but ``sign``, sorted by name, concatenated as name+value."""
    pairs = sorted((k, v) for k, v in params.items() if k != "sign" and v != "")
    return "".join(f"{k}{v}" for k, v in pairs)
