"""Conversion between generated protobuf messages and the domain model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from oms.orders.v1 import order_pb2, orders_service_pb2
from oms.tcc.v1 import tcc_pb2
from oms.type.v1 import address_pb2, money_pb2, platform_pb2

from oms_orders.adapters.order_messages import stamp
from oms_orders.domain.errors import InvalidRequest
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
)

# -- enums: the proto name is "<PREFIX>_<domain name>" -----------------------------


def _enum_name(enum_type: Any, value: int, prefix: str) -> str:
    try:
        return str(enum_type.Name(value)).removeprefix(prefix)
    except ValueError:  # a number this build does not know
        return ""


def platform_from_proto(value: int) -> Platform | None:
    return Platform.__members__.get(_enum_name(platform_pb2.Platform, value, "PLATFORM_"))


def status_from_proto(value: int) -> PlatformOrderStatus | None:
    name = _enum_name(order_pb2.PlatformOrderStatus, value, "PLATFORM_ORDER_STATUS_")
    return PlatformOrderStatus.__members__.get(name)


def order_state_from_proto(value: int) -> OrderState | None:
    name = _enum_name(order_pb2.OrderState, value, "ORDER_STATE_")
    return OrderState.__members__.get(name)


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


def money_from_proto(money: money_pb2.Money) -> Money:
    return Money(money.minor_units, money.currency_code)


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


def transaction_to_proto(tx: GlobalTransaction) -> tcc_pb2.GlobalTransaction:
    return tcc_pb2.GlobalTransaction(
        gid=tx.gid,
        kind=tx.kind,
        subject=tx.subject,
        state=tcc_pb2.TransactionState.Value(f"TRANSACTION_STATE_{tx.state.name}"),
        branches=[_branch_to_proto(b) for b in tx.branches],
        next_attempt_time=stamp(tx.next_attempt_time),
        reason=tx.reason,
        create_time=stamp(tx.create_time),
        update_time=stamp(tx.update_time),
    )


def _branch_to_proto(b: Branch) -> tcc_pb2.Branch:
    return tcc_pb2.Branch(
        branch_id=b.branch_id,
        participant=b.participant,
        state=_branch_state_to_proto(b.state),
        attempts=b.attempts,
        last_error=b.last_error,
        update_time=stamp(b.update_time),
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
