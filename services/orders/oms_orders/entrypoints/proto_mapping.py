"""Conversion between generated protobuf messages and the domain model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from oms.orders.v1 import order_pb2, orders_service_pb2
from oms.tcc.v1 import tcc_pb2
from oms.type.v1 import address_pb2, money_pb2, platform_pb2

from oms_orders.domain.errors import InvalidRequest
from oms_orders.domain.order import Order, Payment, Shipment, StateTransition
from oms_orders.domain.snapshot import PlatformOrderSnapshot
from oms_orders.domain.states import OrderState
from oms_orders.domain.sync import SyncOutcome
from oms_orders.domain.tcc import Branch, BranchState, GlobalTransaction, TransactionState
from oms_orders.domain.values import (
    Address,
    Buyer,
    Money,
    OrderLine,
    Platform,
    PlatformOrderStatus,
    StockAllocation,
)

# -- enums: the proto name is "<PREFIX>_<domain name>" -----------------------------


def _enum_name(enum_type: Any, value: int, prefix: str) -> str:
    try:
        return str(enum_type.Name(value)).removeprefix(prefix)
    except ValueError:  # a number this build does not know
        return ""


def platform_from_proto(value: int) -> Platform | None:
    return Platform.__members__.get(_enum_name(platform_pb2.Platform, value, "PLATFORM_"))


def platform_to_proto(platform: Platform) -> platform_pb2.Platform.ValueType:
    return platform_pb2.Platform.Value(f"PLATFORM_{platform.name}")


def status_from_proto(value: int) -> PlatformOrderStatus | None:
    name = _enum_name(order_pb2.PlatformOrderStatus, value, "PLATFORM_ORDER_STATUS_")
    return PlatformOrderStatus.__members__.get(name)


def order_state_from_proto(value: int) -> OrderState | None:
    name = _enum_name(order_pb2.OrderState, value, "ORDER_STATE_")
    return OrderState.__members__.get(name)


def order_state_to_proto(state: OrderState | None) -> order_pb2.OrderState.ValueType:
    return order_pb2.OrderState.Value(f"ORDER_STATE_{state.name if state else 'UNSPECIFIED'}")


def outcome_to_proto(
    outcome: SyncOutcome,
) -> orders_service_pb2.SyncPlatformOrderOutcome.ValueType:
    return orders_service_pb2.SyncPlatformOrderOutcome.Value(
        f"SYNC_PLATFORM_ORDER_OUTCOME_{outcome.name}"
    )


def transaction_state_from_proto(value: int) -> TransactionState | None:
    name = _enum_name(tcc_pb2.TransactionState, value, "TRANSACTION_STATE_")
    return TransactionState.__members__.get(name)


# -- values ----------------------------------------------------------------------


def _time(message: Any, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    return stamp.ToDatetime(tzinfo=UTC)


def _stamp(when: datetime | None) -> Timestamp | None:
    if when is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def money_from_proto(money: money_pb2.Money) -> Money:
    return Money(money.minor_units, money.currency_code)


def money_to_proto(money: Money) -> money_pb2.Money:
    return money_pb2.Money(minor_units=money.minor_units, currency_code=money.currency)


def address_from_proto(a: address_pb2.Address) -> Address:
    return Address(
        province=a.province,
        city=a.city,
        district=a.district,
        line1=a.line1,
        postal_code=a.postal_code,
        recipient_name=a.recipient_name,
        phone=a.phone,
        country_code=a.country_code,
    )


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


def snapshot_from_proto(s: order_pb2.PlatformOrderSnapshot) -> PlatformOrderSnapshot:
    return PlatformOrderSnapshot(
        platform=platform_from_proto(s.platform),
        platform_order_id=s.platform_order_id,
        status=status_from_proto(s.status),
        platform_status=s.platform_status,
        create_time=_time(s, "create_time"),
        update_time=_time(s, "update_time"),
        version=s.version,
        total=money_from_proto(s.total) if s.HasField("total") else None,
        buyer=Buyer(id=s.buyer.id, name=s.buyer.name),
        shipping_address=address_from_proto(s.shipping_address),
        lines=tuple(
            OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money_from_proto(line.unit_price),
                title=line.title,
            )
            for line in s.lines
        ),
        pay_time=_time(s, "pay_time"),
    )


# -- aggregates ------------------------------------------------------------------


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
        platform_create_time=_stamp(order.platform_create_time),
        platform_update_time=_stamp(order.platform_update_time),
        pay_time=_stamp(order.pay_time),
        payment_deadline=_stamp(order.payment_deadline),
        gid=order.gid,
        allocations=[_allocation_to_proto(a) for a in order.allocations],
        state_reason=order.state_reason,
        reason_codes=order.reason_codes,
        history=[transition_to_proto(t) for t in order.history],
        create_time=_stamp(order.create_time),
        update_time=_stamp(order.update_time),
        payment=_payment_to_proto(order.payment),
        promised_ship_time=_stamp(order.promised_ship_time),
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
        pay_time=_stamp(payment.time),
    )


def _shipment_to_proto(shipment: Shipment | None) -> order_pb2.Shipment | None:
    if shipment is None:
        return None
    return order_pb2.Shipment(
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        ship_time=_stamp(shipment.ship_time),
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
        time=_stamp(t.time),
        reason=t.reason,
        actor=t.actor,
    )


def transaction_to_proto(tx: GlobalTransaction) -> tcc_pb2.GlobalTransaction:
    return tcc_pb2.GlobalTransaction(
        gid=tx.gid,
        kind=tx.kind,
        subject=tx.subject,
        state=tcc_pb2.TransactionState.Value(f"TRANSACTION_STATE_{tx.state.name}"),
        branches=[_branch_to_proto(b) for b in tx.branches],
        next_attempt_time=_stamp(tx.next_attempt_time),
        reason=tx.reason,
        create_time=_stamp(tx.create_time),
        update_time=_stamp(tx.update_time),
    )


def _branch_to_proto(b: Branch) -> tcc_pb2.Branch:
    return tcc_pb2.Branch(
        branch_id=b.branch_id,
        participant=b.participant,
        state=_branch_state_to_proto(b.state),
        attempts=b.attempts,
        last_error=b.last_error,
        update_time=_stamp(b.update_time),
    )


def _branch_state_to_proto(state: BranchState) -> tcc_pb2.BranchState.ValueType:
    return tcc_pb2.BranchState.Value(f"BRANCH_STATE_{state.name}")


# -- request fields that must be present ----------------------------------------


def required_money(request: Any, field: str) -> Money:
    """A Money field the caller must set, with a currency (INVALID_ARGUMENT otherwise)."""
    if not request.HasField(field) or not getattr(request, field).currency_code:
        raise InvalidRequest(f"{field} is required, with its currency", metadata={"field": field})
    return money_from_proto(getattr(request, field))


def required_text(request: Any, field: str, shown: str | None = None) -> str:
    """A string field the caller must set (non-blank)."""
    value = str(getattr(request, field)).strip()
    if not value:
        raise InvalidRequest(f"{shown or field} is required", metadata={"field": shown or field})
    return value


def optional_time(request: Any, field: str) -> datetime | None:
    return _time(request, field)
