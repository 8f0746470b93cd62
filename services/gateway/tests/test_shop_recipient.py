"""The shop schema carries the recipient (so shop orders can be approved at payment)
and refuses fields it does not know instead of silently dropping them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from oms_gateway.domain.errors import InvalidPayload
from oms_gateway.domain.inbox import RawPush
from oms_gateway.platforms.shop import ShopAdapter
from oms_gateway.platforms.shop_schema import ShopWebhook
from omslib.clock import FakeClock
from omslib.platforms.samples.shop import new_secret, sample_shop_order


def translate(body: dict[str, Any]) -> Any:
    adapter = ShopAdapter(new_secret(), clock=FakeClock())
    return adapter.translate(RawPush("shop", {"webhook-id": "msg_1"}, json.dumps(body).encode()))


def test_recipient_name_and_phone_reach_the_order() -> None:
    body = sample_shop_order("A1", [("S", 1)], recipient_name="Li Lei", phone="+86 138 0000 0000")
    body["order"]["shipping_address"].update(district="Xihu", postal_code="310000")
    (snapshot,) = translate(body).snapshots
    address = snapshot.shipping_address
    assert (address.recipient_name, address.phone) == ("Li Lei", "+86 138 0000 0000")
    assert (address.district, address.postal_code) == ("Xihu", "310000")


def test_the_documented_example_is_a_complete_address() -> None:
    example = ShopWebhook.model_config["json_schema_extra"]["example"]  # type: ignore[index]
    (snapshot,) = translate(example).snapshots
    assert snapshot.shipping_address.recipient_name and snapshot.shipping_address.phone


@pytest.mark.parametrize(
    "path",
    [
        "order.shipping_address.phone_number",
        "order.shipping_address.name",
        "order.buyer.email",
        "order.lines.0.title",
        "order.note",
        "extra",
    ],
)
def test_an_unknown_field_is_refused_by_name(path: str) -> None:
    body = sample_shop_order("A1", [("S", 1)])
    target: Any = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = "x"
    with pytest.raises(InvalidPayload) as refused:
        translate(body)
    assert refused.value.metadata["field"] == path
    assert "Extra inputs are not permitted" in refused.value.message


def test_a_phone_with_letters_is_refused() -> None:
    body = sample_shop_order("A1", [("S", 1)], recipient_name="Li Lei", phone="call me")
    with pytest.raises(InvalidPayload) as refused:
        translate(body)
    assert refused.value.metadata["field"] == "order.shipping_address.phone"


def test_a_negative_quantity_is_named_before_the_total_it_upsets() -> None:
    body = sample_shop_order("A1", [("S", -1)])  # the total is negative too
    with pytest.raises(InvalidPayload) as refused:
        translate(body)
    assert refused.value.metadata["field"] == "order.lines.0.quantity"
    assert refused.value.message.startswith("order.lines.0.quantity")
