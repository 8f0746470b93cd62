"""Looks up the adapter for a platform name."""

from __future__ import annotations

from collections.abc import Iterable

from oms_gateway.domain.errors import PlatformNotConfigured, UnknownPlatform
from oms_gateway.platforms.base import PlatformAdapter

MAX_SHOWN_NAME = 40


class PlatformRegistry:
    def __init__(self, adapters: Iterable[PlatformAdapter]) -> None:
        self._adapters = {adapter.name: adapter for adapter in adapters}

    @property
    def names(self) -> list[str]:
        return sorted(self._adapters)

    def all(self) -> list[PlatformAdapter]:
        return [self._adapters[name] for name in self.names]

    def get(self, name: str) -> PlatformAdapter:
        """The adapter, whether or not it is configured (translation needs no secret)."""
        adapter = self._adapters.get(name)
        if adapter is None:
            known = ", ".join(self.names) or "none"
            # The name comes from the URL: never echo more than a short prefix of it.
            shown = name if len(name) <= MAX_SHOWN_NAME else name[:MAX_SHOWN_NAME] + "..."
            raise UnknownPlatform(
                f"no webhook endpoint for platform {shown!r}; known platforms: {known}",
                metadata={"platform": shown},
            )
        return adapter

    def enabled(self, name: str) -> PlatformAdapter:
        """The adapter for intake: it must be known, take HTTP pushes, and be configured."""
        adapter = self.get(name)
        # A platform that never pushes over HTTP (Pinduoduo) answers 401 as documented,
        # configured or not: "not configured" would suggest that setting it up helps.
        if not getattr(adapter, "accepts_http", True):
            raise adapter.http_refusal()  # type: ignore[attr-defined]
        if not adapter.enabled:
            raise PlatformNotConfigured(
                f"platform {name!r} is not configured on this gateway: {adapter.disabled_hint()}",
                metadata={"platform": name},
            )
        return adapter
