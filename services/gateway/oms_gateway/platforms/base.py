"""The interface every platform adapter implements.

An adapter knows one platform's signing scheme and body format. ``verify`` checks
the raw request (before we trust a single byte of it); ``translate`` turns the raw
push into canonical snapshots plus the platform's event id. ``translate`` is pure
and deterministic so that the delivery worker (and replays) can re-run it on the
stored raw push.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel

from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation


class PlatformAdapter(Protocol):
    #: Lower-case platform name as it appears in ``/webhooks/{platform}``.
    name: str
    #: The body's schema, published in OpenAPI (the endpoint reads the raw body itself).
    body_model: type[BaseModel]

    @property
    def enabled(self) -> bool:
        """False when the platform's credentials are not configured on this gateway."""
        ...

    def disabled_hint(self) -> str:
        """What the operator must set to enable the platform."""
        ...

    def verify(self, push: RawPush) -> None:
        """Raise an ``Unauthenticated`` subclass unless the push is authentic and fresh."""
        ...

    def translate(self, push: RawPush) -> Translation:
        """Parse and validate the body; raise ``InvalidPayload`` naming the bad field."""
        ...


def acknowledgement(
    adapter: PlatformAdapter, *, inbox_id: str, duplicate: bool
) -> tuple[int, dict[str, Any]]:
    """HTTP status and JSON body that acknowledge a stored push.

    The default is ``202 {"status": "accepted", "inbox_id": ...}`` (``200`` and
    ``"duplicate"`` when seen before). Platforms that expect their own answer (Douyin,
    Youzan, Qimen) define ``acknowledge(inbox_id=, duplicate=)``.
    """
    custom = getattr(adapter, "acknowledge", None)
    if custom is not None:
        status, body = custom(inbox_id=inbox_id, duplicate=duplicate)
        return int(status), dict(body)
    return (
        (200, {"status": "duplicate", "inbox_id": inbox_id})
        if duplicate
        else (
            202,
            {"status": "accepted", "inbox_id": inbox_id},
        )
    )
