"""Database URL normalisation: accept the common sync spellings, always use async drivers."""

from __future__ import annotations

_REWRITES = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
_ASYNC_SCHEMES = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg"})


def normalize_url(url: str) -> str:
    """Return ``url`` with the async driver we support for its database.

    ``sqlite:///x`` becomes ``sqlite+aiosqlite:///x``; ``postgresql://`` and
    ``postgres://`` become ``postgresql+asyncpg://``. Anything else is a ValueError.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(
            f"database URL {url!r} has no scheme (expected sqlite:// or postgresql://)"
        )
    scheme = scheme.lower()
    if scheme in _ASYNC_SCHEMES:
        return f"{scheme}://{rest}"
    if scheme in _REWRITES:
        return f"{_REWRITES[scheme]}://{rest}"
    raise ValueError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///path.db, "
        "sqlite+aiosqlite://, postgresql:// or postgresql+asyncpg://"
    )
