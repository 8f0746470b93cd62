"""Resource names and page tokens are parsed strictly."""

from __future__ import annotations

import pytest
from oms_orders.domain.errors import InvalidName, InvalidPageToken
from oms_orders.domain.names import OrderIdName, PlatformOrderName, parse_order_name
from oms_orders.domain.values import Platform
from oms_orders.service_layer.paging import decode_token, encode_token, page_size
from omslib.ids import new_id


def test_both_name_forms_parse() -> None:
    assert parse_order_name("orders/01ABC") == OrderIdName("01ABC")
    assert parse_order_name("platforms/shop/orders/A1001") == PlatformOrderName(
        Platform.SHOP, "A1001"
    )
    assert parse_order_name("platforms/taobao/orders/T-9") == PlatformOrderName(
        Platform.TAOBAO, "T-9"
    )


@pytest.mark.parametrize(
    "name",
    [
        "",
        "orders/",
        "orders",
        "order/1",
        "platforms/SHOP/orders/1",
        "platforms/ebay/orders/1",
        "platforms/shop/orders/",
        "orders/1/extra",
    ],
)
def test_bad_names_are_invalid(name: str) -> None:
    with pytest.raises(InvalidName):
        parse_order_name(name)


def test_a_token_round_trips() -> None:
    last = new_id()
    assert decode_token(encode_token(last)) == last
    assert decode_token("") is None


@pytest.mark.parametrize("token", ["garbage", "!!!", encode_token("not-an-id")])
def test_a_forged_token_is_invalid(token: str) -> None:
    with pytest.raises(InvalidPageToken):
        decode_token(token)


def test_page_size_defaults_and_caps() -> None:
    assert page_size(0) == 50
    assert page_size(7) == 7
    assert page_size(10_000) == 500
