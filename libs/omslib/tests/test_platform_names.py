from oms.type.v1 import platform_pb2
from omslib.platforms.names import MARKETPLACES, PLATFORM_NAMES, Platform, proto_name


def test_the_platforms_are_the_proto_enum_in_its_order() -> None:
    proto = [name for name, _ in platform_pb2.Platform.items() if name != "PLATFORM_UNSPECIFIED"]
    assert [proto_name(platform) for platform in Platform] == proto


def test_names_are_the_lower_case_member_names() -> None:
    assert PLATFORM_NAMES == ("taobao", "jd", "pdd", "douyin", "youzan", "shopify", "shop")
    assert all(platform.value == platform.name.lower() for platform in Platform)


def test_parse_knows_only_lower_case_names() -> None:
    assert Platform.parse("jd") is Platform.JD
    assert Platform.parse("JD") is None
    assert Platform.parse("ebay") is None


def test_the_marketplaces_are_every_platform_but_the_merchants_own_shops() -> None:
    assert frozenset({"taobao", "jd", "pdd", "douyin", "youzan"}) == MARKETPLACES
