"""The Order aggregate: one platform order, its state and the history of its moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from omslib.ids import new_id

from oms_orders.domain.snapshot import PlatformOrderSnapshot
from oms_orders.domain.states import OrderState, check_move
from oms_orders.domain.values import (
    Address,
    Buyer,
    Money,
    OrderLine,
    Platform,
    StockAllocation,
)

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class StateTransition:
    """One recorded move; ``from_state`` is None for the first entry."""

    from_state: OrderState | None
    to_state: OrderState
    time: datetime
    reason: str
    actor: str


@dataclass
class Order:
    order_id: str
    platform: Platform
    platform_order_id: str
    state: OrderState
    lines: list[OrderLine]
    total: Money
    buyer: Buyer
    shipping_address: Address
    platform_create_time: datetime | None
    platform_update_time: datetime | None
    platform_version: int
    platform_status: str
    payment_deadline: datetime
    gid: str
    create_time: datetime
    update_time: datetime
    allocations: list[StockAllocation] = field(default_factory=list)
    state_reason: str = ""
    reason_codes: list[str] = field(default_factory=list)
    history: list[StateTransition] = field(default_factory=list)
    pay_time: datetime | None = None
    #: Optimistic-concurrency counter, bumped by the repository on every save.
    version: int = 0

    @property
    def name(self) -> str:
        return f"orders/{self.order_id}"

    @classmethod
    def place(
        cls,
        snapshot: PlatformOrderSnapshot,
        *,
        gid: str,
        now: datetime,
        payment_window: timedelta,
    ) -> Order:
        """A new order from a validated CREATED snapshot, waiting for payment."""
        assert snapshot.platform is not None and snapshot.total is not None, "validate() first"
        placed_at = snapshot.create_time or now
        order = cls(
            order_id=new_id(),
            platform=snapshot.platform,
            platform_order_id=snapshot.platform_order_id,
            state=OrderState.PENDING_PAYMENT,
            lines=list(snapshot.lines),
            total=snapshot.total,
            buyer=snapshot.buyer,
            shipping_address=snapshot.shipping_address,
            platform_create_time=snapshot.create_time,
            platform_update_time=snapshot.update_time,
            platform_version=snapshot.version,
            platform_status=snapshot.platform_status,
            payment_deadline=placed_at + payment_window,
            gid=gid,
            create_time=now,
            update_time=now,
        )
        check_move(None, OrderState.PENDING_PAYMENT)
        order.history.append(
            StateTransition(
                None, OrderState.PENDING_PAYMENT, now, "platform snapshot", platform_actor(snapshot)
            )
        )
        return order

    def move_to(self, state: OrderState, *, at: datetime, reason: str, actor: str) -> None:
        """Apply one move of the transition table and record it in the history."""
        check_move(self.state, state)
        self.history.append(StateTransition(self.state, state, at, reason, actor))
        self.state = state
        self.update_time = at

    def reserved(self, allocations: list[StockAllocation], *, at: datetime) -> None:
        """Record where inventory reserved the stock."""
        self.allocations = list(allocations)
        self.update_time = at

    def reject(self, reason_code: str, explanation: str, *, at: datetime) -> None:
        """Refuse the order (e.g. not enough stock); nothing stays reserved for it."""
        self.move_to(OrderState.REJECTED, at=at, reason=explanation, actor=SYSTEM_ACTOR)
        self.state_reason = explanation
        self.reason_codes = [reason_code]
        self.allocations = []

    def note_platform_update(self, snapshot: PlatformOrderSnapshot, *, at: datetime) -> None:
        """Remember a newer platform snapshot's time, version and raw status."""
        self.platform_update_time = snapshot.update_time
        self.platform_version = snapshot.version
        self.platform_status = snapshot.platform_status
        self.update_time = at

    def reserve_lines(self) -> list[tuple[str, int]]:
        """(SKU, quantity) to reserve, one entry per SKU in first-seen order."""
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.sku] = totals.get(line.sku, 0) + line.quantity
        return list(totals.items())


def platform_actor(snapshot: PlatformOrderSnapshot) -> str:
    platform = snapshot.platform.value if snapshot.platform else "unknown"
    return f"platform:{platform}"
