"""Looks up the adapter for a platform name."""

from __future__ import annotations

from collections.abc import Iterable

from oms_gateway.domain.errors import PlatformNotConfigured, UnknownPlatform
from oms_gateway.platforms.base import PlatformAdapter


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
            raise UnknownPlatform(
                f"no webhook endpoint for platform {name!r}; known platforms: {known}",
                metadata={"platform": name},
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
