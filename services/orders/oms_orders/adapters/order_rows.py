"""Rows <-> Order aggregate conversion for the orders tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from oms_orders.domain.order import Order, Payment, Shipment, StateTransition
from oms_orders.domain.states import OrderState
from oms_orders.domain.values import Address, Buyer, Money, OrderLine, Platform, StockAllocation


def order_row(order: Order) -> dict[str, Any]:
    a = order.shipping_address
    return {
        "order_id": order.order_id,
        "platform": order.platform.value,
        "platform_order_id": order.platform_order_id,
        "state": order.state.value,
        "total_minor_units": order.total.minor_units,
        "currency": order.total.currency,
        "buyer_id": order.buyer.id,
        "buyer_name": order.buyer.name,
        "ship_province": a.province,
        "ship_city": a.city,
        "ship_district": a.district,
        "ship_line1": a.line1,
        "ship_postal_code": a.postal_code,
        "ship_recipient_name": a.recipient_name,
        "ship_phone": a.phone,
        "ship_country_code": a.country_code,
        "platform_create_time": order.platform_create_time,
        "platform_update_time": order.platform_update_time,
        "platform_version": order.platform_version,
        "platform_status": order.platform_status,
        "pay_time": order.pay_time,
        "payment_deadline": order.payment_deadline,
        "gid": order.gid,
        **_payment_columns(order),
        **_shipment_columns(order),
        "refund_owed_minor_units": order.refund_owed.minor_units if order.refund_owed else None,
        "state_reason": order.state_reason,
        "reason_codes": list(order.reason_codes),
        "create_time": order.create_time,
        "update_time": order.update_time,
        "version": order.version,
    }


def line_rows(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order.order_id,
            "line_no": i,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price_minor_units": line.unit_price.minor_units,
            "currency": line.unit_price.currency,
            "title": line.title,
        }
        for i, line in enumerate(order.lines)
    ]


def order_from_rows(
    row: Row[Any],
    lines: Sequence[Row[Any]],
    allocations: Sequence[Row[Any]],
    history: Sequence[Row[Any]],
) -> Order:
    return Order(
        order_id=row.order_id,
        platform=Platform(row.platform),
        platform_order_id=row.platform_order_id,
        state=OrderState(row.state),
        lines=[
            OrderLine(
                sku=r.sku,
                quantity=r.quantity,
                unit_price=Money(r.unit_price_minor_units, r.currency),
                title=r.title,
            )
            for r in lines
        ],
        total=Money(row.total_minor_units, row.currency),
        buyer=Buyer(id=row.buyer_id, name=row.buyer_name),
        shipping_address=Address(
            province=row.ship_province,
            city=row.ship_city,
            district=row.ship_district,
            line1=row.ship_line1,
            postal_code=row.ship_postal_code,
            recipient_name=row.ship_recipient_name,
            phone=row.ship_phone,
            country_code=row.ship_country_code,
        ),
        platform_create_time=row.platform_create_time,
        platform_update_time=row.platform_update_time,
        platform_version=row.platform_version,
        platform_status=row.platform_status,
        payment_deadline=row.payment_deadline,
        gid=row.gid,
        create_time=row.create_time,
        update_time=row.update_time,
        allocations=[StockAllocation(r.sku, r.warehouse_code, r.quantity) for r in allocations],
        state_reason=row.state_reason,
        reason_codes=list(row.reason_codes or []),
        history=[
            StateTransition(
                from_state=OrderState(r.from_state) if r.from_state else None,
                to_state=OrderState(r.to_state),
                time=r.time,
                reason=r.reason,
                actor=r.actor,
            )
            for r in history
        ],
        pay_time=row.pay_time,
        payment=_payment(row),
        promised_ship_time=row.promised_ship_time,
        shipment=_shipment(row),
        refund_owed=(
            Money(row.refund_owed_minor_units, row.currency)
            if row.refund_owed_minor_units is not None
            else None
        ),
        refunded_minor_units=row.refunded_minor_units,
        refund_frozen_minor_units=row.refund_frozen_minor_units,
        version=row.version,
    )


def _payment_columns(order: Order) -> dict[str, Any]:
    p = order.payment
    return {
        "paid_minor_units": p.amount.minor_units if p else None,
        "paid_currency": p.amount.currency if p else None,
        "payment_reference": p.reference if p else None,
    }


def _shipment_columns(order: Order) -> dict[str, Any]:
    s = order.shipment
    return {
        "promised_ship_time": order.promised_ship_time,
        "ship_carrier": s.carrier if s else None,
        "ship_tracking_number": s.tracking_number if s else None,
        "ship_time": s.ship_time if s else None,
        "shipped_on_time": s.on_time if s else None,
    }


def _payment(row: Row[Any]) -> Payment | None:
    if row.paid_minor_units is None:
        return None
    return Payment(
        Money(row.paid_minor_units, row.paid_currency),
        row.payment_reference or "",
        row.pay_time,
    )


def _shipment(row: Row[Any]) -> Shipment | None:
    if row.ship_time is None:
        return None
    return Shipment(row.ship_carrier, row.ship_tracking_number, row.ship_time, row.shipped_on_time)
