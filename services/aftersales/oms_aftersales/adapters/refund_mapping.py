"""Refunds between the domain and the protos."""

from __future__ import annotations

from oms.aftersales.v1 import aftersales_pb2 as pb
from oms.aftersales.v1 import aftersales_service_pb2 as spb
from oms.tcc.v1 import tcc_pb2
from oms.type.v1 import money_pb2
from omslib.tcc import GlobalTransaction

from oms_aftersales.adapters.proto_mapping import stamp
from oms_aftersales.adapters.refund_repository import AuditRow
from oms_aftersales.domain.refund import Refund, RefundState

REFUNDS = "refunds/"


def refund_name(refund_id: str) -> str:
    return f"{REFUNDS}{refund_id}"


def state_to_proto(state: RefundState | str) -> pb.RefundState.ValueType:
    return pb.RefundState.Value(f"REFUND_STATE_{RefundState(state).value}")


def state_from_proto(value: int) -> RefundState | None:
    if value == 0:
        return None
    return RefundState(pb.RefundState.Name(value).removeprefix("REFUND_STATE_"))  # type: ignore[arg-type]


def _money(units: int, currency: str) -> money_pb2.Money:
    return money_pb2.Money(minor_units=units, currency_code=currency)


def refund_to_proto(r: Refund) -> pb.Refund:
    return pb.Refund(
        name=refund_name(r.refund_id),
        refund_id=r.refund_id,
        order=f"orders/{r.order_id}",
        ticket=f"tickets/{r.ticket_id}" if r.ticket_id else "",
        amount=_money(r.total, r.currency),
        shipping_amount=_money(r.shipping, r.currency),
        return_lines=[
            pb.ReturnLine(sku=x.sku, quantity=x.quantity, warehouse_code=x.warehouse_code)
            for x in r.return_lines
        ],
        state=state_to_proto(r.state),
        gid=r.gid,
        create_time=stamp(r.created_at),
        refund_time=stamp(r.refunded_at),
        update_time=stamp(r.updated_at),
        request_id=r.request_id,
        reason=r.reason,
        state_reason=r.state_reason,
        payout_path=r.payout_path,
        payout_reference=r.payout_reference,
        differences=r.differences,
        approved_by=r.approved_by,
    )


def audit_to_proto(a: AuditRow) -> spb.RefundAuditEntry:
    return spb.RefundAuditEntry(
        from_state=state_to_proto(a.from_state),
        to_state=state_to_proto(a.to_state),
        actor=a.actor,
        note=a.note,
        time=stamp(a.at),
    )


def transaction_to_proto(tx: GlobalTransaction) -> tcc_pb2.GlobalTransaction:
    return tcc_pb2.GlobalTransaction(
        gid=tx.gid,
        kind=tx.kind,
        subject=tx.subject,
        state=tcc_pb2.TransactionState.Value(f"TRANSACTION_STATE_{tx.state.name}"),
        branches=[
            tcc_pb2.Branch(
                branch_id=b.branch_id,
                participant=b.participant,
                state=tcc_pb2.BranchState.Value(f"BRANCH_STATE_{b.state.name}"),
                attempts=b.attempts,
                last_error=b.last_error,
                update_time=stamp(b.update_time),
            )
            for b in tx.branches
        ],
        next_attempt_time=stamp(tx.next_attempt_time),
        reason=tx.reason,
        create_time=stamp(tx.create_time),
        update_time=stamp(tx.update_time),
    )
