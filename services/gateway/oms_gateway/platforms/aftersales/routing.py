"""Routing by kind: one endpoint per platform, order pushes to orders, after-sales
pushes to aftersales.

``KindRouter`` wraps a platform's order adapter: the signature check is the adapter's
own (the very same code as for order pushes), and so are its answer and settings.
Only the translation is routed: the platform's ``AftersalesReader`` recognises its
after-sales kinds (by topic, type header, method or message tag) and translates them
to customer messages; everything else goes to the order adapter unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pydantic import BaseModel

from oms_gateway.domain.inbox import RawPush
from oms_gateway.domain.snapshot import Translation
from oms_gateway.platforms.aftersales import douyin, jd, shopify, taobao, youzan
from oms_gateway.platforms.aftersales.routing_types import OrderTranslation
from oms_gateway.platforms.base import PlatformAdapter


class AftersalesReader(Protocol):
    def translate(self, push: RawPush, orders: OrderTranslation) -> Translation:
        """The push's customer messages, or ``orders(push)`` when it is an order push
        (both merged when one push carries both, as a Douyin batch may)."""
        ...


READERS: Mapping[str, AftersalesReader] = {
    taobao.NAME: taobao.Reader(),
    jd.NAME: jd.Reader(),
    douyin.NAME: douyin.Reader(),
    youzan.NAME: youzan.Reader(),
    shopify.NAME: shopify.Reader(),
}


class KindRouter:
    """A platform adapter whose pushes may be orders or after-sales (see the module doc)."""

    def __init__(self, orders: PlatformAdapter, reader: AftersalesReader) -> None:
        self._orders = orders
        self._reader = reader
        self.name = orders.name
        self.body_model: type[BaseModel] = orders.body_model

    @property
    def orders(self) -> PlatformAdapter:
        return self._orders

    @property
    def enabled(self) -> bool:
        return self._orders.enabled

    def disabled_hint(self) -> str:
        return self._orders.disabled_hint()

    def verify(self, push: RawPush) -> None:
        self._orders.verify(push)

    def translate(self, push: RawPush) -> Translation:
        return self._reader.translate(push, self._orders.translate)

    def __getattr__(self, name: str) -> Any:
        # The platform's own answer (``acknowledge``) and anything else it offers.
        return getattr(self._orders, name)


def with_aftersales(adapters: Iterable[PlatformAdapter]) -> list[PlatformAdapter]:
    """Each adapter of a platform with after-sales kinds wrapped in a ``KindRouter``."""
    return [
        KindRouter(adapter, READERS[adapter.name]) if adapter.name in READERS else adapter
        for adapter in adapters
    ]
