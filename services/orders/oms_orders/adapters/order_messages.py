"""Domain -> oms.orders.v1 messages: one mapping for the gRPC API and the events.

Pure (domain in, generated message out, nothing of the server or the session), so the
event adapter and the gRPC entrypoints both use it; request parsing stays in
``entrypoints.proto_mapping``.
"""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from oms.orders.v1 import order_pb2
from oms.type.v1 import address_pb2, money_pb2, platform_pb2

from oms_orders.domain.order import Order, Payment, Shipment, StateTransition
from oms_orders.domain.states import OrderState
from oms_orders.domain.values import Address, Money, Platform, StockAllocation


def platform_to_proto(platform: Platform) -> platform_pb2.Platform.ValueType:
    return platform_pb2.Platform.Value(f"PLATFORM_{platform.name}")


def order_state_to_proto(state: OrderState | None) -> order_pb2.OrderState.ValueType:
    return order_pb2.OrderState.Value(f"ORDER_STATE_{state.name if state else 'UNSPECIFIED'}")


def stamp(when: datetime | None) -> Timestamp | None:
    if when is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def money_to_proto(money: Money) -> money_pb2.Money:
    return money_pb2.Money(minor_units=money.minor_units, currency_code=money.currency)


def address_to_proto(a: Address) -> address_pb2.Address:
    return address_pb2.Address(
        province=a.province,
        city=a.city,
        district=a.district,
        line1=a.line1,
        postal_code=a.postal_code,
        recipient_name=a.recipient_name,
        phone=a.phone,
        country_code=a.country_code,
    )


def order_to_proto(order: Order) -> order_pb2.Order:
    return order_pb2.Order(
        name=order.name,
        order_id=order.order_id,
        platform=platform_to_proto(order.platform),
        platform_order_id=order.platform_order_id,
        state=order_state_to_proto(order.state),
        lines=[
            order_pb2.OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money_to_proto(line.unit_price),
                title=line.title,
            )
            for line in order.lines
        ],
        total=money_to_proto(order.total),
        buyer=order_pb2.Buyer(id=order.buyer.id, name=order.buyer.name),
        shipping_address=address_to_proto(order.shipping_address),
        platform_create_time=stamp(order.platform_create_time),
        platform_update_time=stamp(order.platform_update_time),
        pay_time=stamp(order.pay_time),
        payment_deadline=stamp(order.payment_deadline),
        gid=order.gid,
        allocations=[_allocation_to_proto(a) for a in order.allocations],
        state_reason=order.state_reason,
        reason_codes=order.reason_codes,
        history=[transition_to_proto(t) for t in order.history],
        create_time=stamp(order.create_time),
        update_time=stamp(order.update_time),
        payment=_payment_to_proto(order.payment),
        promised_ship_time=stamp(order.promised_ship_time),
        shipment=_shipment_to_proto(order.shipment),
        refund_owed=money_to_proto(order.refund_owed) if order.refund_owed else None,
        **_refund_amounts(order),
    )


def _refund_amounts(order: Order) -> dict[str, money_pb2.Money]:
    """refunded / refund_frozen when not zero, refundable once paid."""
    if order.payment is None or order.refundable is None:
        return {}
    currency = order.payment.amount.currency
    amounts = {"refundable": money_to_proto(order.refundable)}
    if order.refunded_minor_units:
        amounts["refunded"] = money_to_proto(Money(order.refunded_minor_units, currency))
    if order.refund_frozen_minor_units:
        amounts["refund_frozen"] = money_to_proto(Money(order.refund_frozen_minor_units, currency))
    return amounts


def _payment_to_proto(payment: Payment | None) -> order_pb2.Payment | None:
    if payment is None:
        return None
    return order_pb2.Payment(
        amount=money_to_proto(payment.amount),
        reference=payment.reference,
        pay_time=stamp(payment.time),
    )


def _shipment_to_proto(shipment: Shipment | None) -> order_pb2.Shipment | None:
    if shipment is None:
        return None
    return order_pb2.Shipment(
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        ship_time=stamp(shipment.ship_time),
        on_time=shipment.on_time,
    )


def _allocation_to_proto(a: StockAllocation) -> order_pb2.StockAllocation:
    return order_pb2.StockAllocation(
        sku=a.sku, warehouse_code=a.warehouse_code, quantity=a.quantity
    )


def transition_to_proto(t: StateTransition) -> order_pb2.StateTransition:
    return order_pb2.StateTransition(
        from_state=order_state_to_proto(t.from_state),
        to_state=order_state_to_proto(t.to_state),
        time=stamp(t.time),
        reason=t.reason,
        actor=t.actor,
    )
