"""Customer identities: one customer may write from a platform account, a phone and WeChat.

A customer's key is their strongest identity: the platform buyer when known
(orders name it), else the phone, else the WeChat openid. Other identities are
aliases of that key; when an order later names the buyer of a phone or WeChat
customer, the alias moves to the buyer (history already recorded stays where it is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from omslib.errors import InvalidArgument

PHONE = re.compile(r"^\+?\d{5,20}$")
MAX_ID = 128


class InvalidCustomer(InvalidArgument):
    reason = "INVALID_CUSTOMER"


@dataclass(frozen=True)
class CustomerIdentity:
    platform: str = ""
    buyer_id: str = ""
    phone: str = ""
    wechat_openid: str = ""

    def identity_keys(self) -> list[str]:
        """Identity keys, strongest first."""
        keys = []
        if self.platform and self.buyer_id:
            keys.append(buyer_key(self.platform, self.buyer_id))
        if self.phone:
            keys.append(f"phone:{self.phone}")
        if self.wechat_openid:
            keys.append(f"wechat:{self.wechat_openid}")
        return keys

    def validate(self, *, require_identity: bool = True) -> None:
        """Bounded and well formed; ``require_identity=False`` when an order names the buyer."""
        for name, value in (
            ("buyer_id", self.buyer_id),
            ("phone", self.phone),
            ("wechat_openid", self.wechat_openid),
        ):
            if len(value) > MAX_ID:
                raise InvalidCustomer(f"customer.{name} is longer than {MAX_ID} characters")
        if self.buyer_id and not self.platform:
            raise InvalidCustomer("customer.buyer_id needs customer.platform")
        if self.phone and not PHONE.match(self.phone):
            raise InvalidCustomer("customer.phone must be digits with an optional leading '+'")
        if require_identity and not self.identity_keys():
            raise InvalidCustomer(
                "customer needs platform and buyer_id, or phone, or wechat_openid"
            )


def buyer_key(platform: str, buyer_id: str) -> str:
    return f"buyer:{platform.lower()}:{buyer_id}"


def parse_key(key: str) -> CustomerIdentity:
    kind, _, rest = key.partition(":")
    if kind == "buyer":
        platform, _, buyer = rest.partition(":")
        return CustomerIdentity(platform=platform, buyer_id=buyer)
    if kind == "phone":
        return CustomerIdentity(phone=rest)
    if kind == "wechat":
        return CustomerIdentity(wechat_openid=rest)
    raise InvalidCustomer(f"unknown customer key {key[:80]!r}")
