"""The platforms orders come from, named once.

The value is the lower-case name used in resource names (``platforms/{platform}/orders/..``),
URLs (``/webhooks/{platform}``) and variables (``OMS_PLATFORM_{PLATFORM}_SECRET``); the
member's name is the proto enum's (``oms.type.v1.Platform``) without ``PLATFORM_``, in the
same order (``libs/omslib/tests/test_platform_names.py`` holds them together). Plain Python,
so a service's domain can use it without importing generated code.
"""

from __future__ import annotations

import enum


class Platform(enum.Enum):
    """A sales channel."""

    TAOBAO = "taobao"
    JD = "jd"
    PDD = "pdd"
    DOUYIN = "douyin"
    YOUZAN = "youzan"
    SHOPIFY = "shopify"
    SHOP = "shop"

    @classmethod
    def parse(cls, text: str) -> Platform | None:
        """The platform named ``text`` (lower case), or None."""
        try:
            return cls(text)
        except ValueError:
            return None


#: Every platform's name, in the proto enum's order.
PLATFORM_NAMES: tuple[str, ...] = tuple(platform.value for platform in Platform)
#: The marketplaces: they hold the buyer's money (and refund it themselves), unlike a shop
#: the merchant runs (Shopify, our own web shop).
MARKETPLACES: frozenset[str] = frozenset(
    platform.value for platform in Platform if platform not in (Platform.SHOPIFY, Platform.SHOP)
)
#: The proto enum's name of each platform (``PLATFORM_TAOBAO``...), to map by name.
PROTO_PREFIX = "PLATFORM_"


def proto_name(platform: Platform) -> str:
    return PROTO_PREFIX + platform.name
