"""Canonical snapshot -> ``oms.orders.v1.PlatformOrderSnapshot``."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from oms.orders.v1 import order_pb2
from oms.type.v1 import address_pb2, money_pb2, platform_pb2
from omslib.platforms.names import Platform, proto_name

from oms_gateway.domain.snapshot import Money, OrderSnapshot, PlatformOrderStatus

#: Platform name -> proto enum value, matched by name.
PLATFORMS: dict[str, platform_pb2.Platform.ValueType] = {
    platform.value: platform_pb2.Platform.Value(proto_name(platform)) for platform in Platform
}

STATUSES: dict[PlatformOrderStatus, order_pb2.PlatformOrderStatus.ValueType] = {
    PlatformOrderStatus.CREATED: order_pb2.PLATFORM_ORDER_STATUS_CREATED,
    PlatformOrderStatus.PAID: order_pb2.PLATFORM_ORDER_STATUS_PAID,
    PlatformOrderStatus.CANCELLED: order_pb2.PLATFORM_ORDER_STATUS_CANCELLED,
    PlatformOrderStatus.SHIPPED: order_pb2.PLATFORM_ORDER_STATUS_SHIPPED,
    PlatformOrderStatus.DELIVERED: order_pb2.PLATFORM_ORDER_STATUS_DELIVERED,
    PlatformOrderStatus.COMPLETED: order_pb2.PLATFORM_ORDER_STATUS_COMPLETED,
}


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _money(value: Money) -> money_pb2.Money:
    return money_pb2.Money(minor_units=value.minor_units, currency_code=value.currency)


def snapshot_to_proto(snapshot: OrderSnapshot) -> order_pb2.PlatformOrderSnapshot:
    address = snapshot.shipping_address
    message = order_pb2.PlatformOrderSnapshot(
        platform=PLATFORMS[snapshot.platform],
        platform_order_id=snapshot.platform_order_id,
        status=STATUSES[snapshot.status],
        platform_status=snapshot.platform_status,
        create_time=_timestamp(snapshot.create_time),
        update_time=_timestamp(snapshot.update_time),
        version=snapshot.version,
        total=_money(snapshot.total),
        buyer=order_pb2.Buyer(id=snapshot.buyer.id, name=snapshot.buyer.name),
        shipping_address=address_pb2.Address(
            province=address.province,
            city=address.city,
            district=address.district,
            line1=address.line1,
            postal_code=address.postal_code,
            recipient_name=address.recipient_name,
            phone=address.phone,
            country_code=address.country_code,
        ),
        lines=[
            order_pb2.OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=_money(line.unit_price),
                title=line.title,
            )
            for line in snapshot.lines
        ],
    )
    if snapshot.pay_time is not None:
        message.pay_time.CopyFrom(_timestamp(snapshot.pay_time))
    return message
