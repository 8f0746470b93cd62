"""The type the readers and the router share (kept apart so the readers need not import
the router)."""

from __future__ import annotations

from collections.abc import Callable

from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation

#: The order adapter's own translation, for pushes that are not after-sales.
OrderTranslation = Callable[[RawPush], Translation]
