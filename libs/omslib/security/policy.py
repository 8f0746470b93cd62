"""The authorization policy: each caller identity and the RPCs it may call, as data.

Keys are identities: the subject CN of a client certificate, or the ``sub`` of a
signed service token. Values are full method names (``package.Service/Method``);
``package.Service/*`` grants every method of a service. Anything not listed is
refused with PERMISSION_DENIED. Keep docs/security.md in step with this table.
"""

from __future__ import annotations

from collections.abc import Mapping

ORDERS = "oms.orders.v1.OrdersService"
INVENTORY = "oms.inventory.v1.InventoryService"
AFTERSALES = "oms.aftersales.v1.AftersalesService"

#: Health checks and reflection answer anyone who completed the transport handshake
#: (probes and grpcurl carry no identity); whether reflection runs is the server's choice.
OPEN_SERVICES: frozenset[str] = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)

POLICY: Mapping[str, frozenset[str]] = {
    # The HTTP gateway turns platform pushes into orders and after-sales intake.
    "gateway": frozenset(
        {
            f"{ORDERS}/SyncPlatformOrder",
            f"{AFTERSALES}/RecordCustomerMessage",
            # A marketplace's refund, pushed to the gateway, recorded once by aftersales.
            f"{AFTERSALES}/RecordPlatformRefund",
        }
    ),
    # Orders coordinates the inventory reservation of each order (TCC).
    "orders": frozenset(
        {
            f"{INVENTORY}/TryReserveStock",
            f"{INVENTORY}/ConfirmReserveStock",
            f"{INVENTORY}/CancelReserveStock",
            f"{INVENTORY}/RestockReservation",
            f"{INVENTORY}/GetReservation",
            f"{INVENTORY}/GetAvailability",
        }
    ),
    # After-sales freezes refundable amounts on orders and puts returns back in stock.
    "aftersales": frozenset(
        {
            f"{ORDERS}/GetOrder",
            f"{ORDERS}/TryFreezeRefund",
            f"{ORDERS}/ConfirmFreezeRefund",
            f"{ORDERS}/CancelFreezeRefund",
            f"{INVENTORY}/GetStock",
            f"{INVENTORY}/GetAvailability",
            f"{INVENTORY}/AdjustStock",
            # The inventory branch of the refund TCC, and the receipt of returned goods.
            f"{INVENTORY}/TryExpectReturn",
            f"{INVENTORY}/ConfirmExpectReturn",
            f"{INVENTORY}/CancelExpectReturn",
            f"{INVENTORY}/ReceiveReturn",
            f"{INVENTORY}/GetExpectedReturn",
        }
    ),
    # People, through the `oms` CLI: approve, reject, set stock, retry transactions, read;
    # a warehouse scanning returned goods (ReceiveReturn, GetExpectedReturn) is one too.
    "operator": frozenset({f"{ORDERS}/*", f"{INVENTORY}/*", f"{AFTERSALES}/*"}),
}


def is_allowed(identity: str, method: str, policy: Mapping[str, frozenset[str]] = POLICY) -> bool:
    """Whether ``identity`` may call ``method`` (``/package.Service/Method`` as gRPC names it)."""
    name = method.lstrip("/")
    service, _, _ = name.partition("/")
    if service in OPEN_SERVICES:
        return True
    granted = policy.get(identity, frozenset())
    return name in granted or f"{service}/*" in granted
