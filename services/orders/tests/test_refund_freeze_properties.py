"""Property: for any interleaving of refund freezes, confirmations, cancellations and
duplicates on one paid order, the refunded and frozen amounts never exceed what was paid,
a refund is recorded at most once, and the order's amounts equal the sum of its freezes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from oms_orders import bootstrap
from oms_orders.adapters.orm import orders as orders_table
from oms_orders.adapters.repository import OrderRepository
from oms_orders.adapters.unit_of_work import OrdersUnitOfWork
from oms_orders.domain.errors import OrderNotFound
from oms_orders.domain.order import Order, Payment
from oms_orders.domain.refunds import FreezeState
from oms_orders.domain.snapshot import PlatformOrderSnapshot
from oms_orders.domain.values import Money, OrderLine, Platform, PlatformOrderStatus
from oms_orders.service_layer.refund_freeze import RefundFreezes
from omslib.clock import FakeClock
from omslib.db import create_engine, session_factory, upgrade_schema
from omslib.errors import DomainError
from omslib.ids import new_id

PAID = Money(1000, "CNY")
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _order() -> Order:
    snapshot = PlatformOrderSnapshot(
        platform=Platform.SHOP,
        platform_order_id=new_id(),
        status=PlatformOrderStatus.CREATED,
        platform_status="paid",
        create_time=NOW,
        update_time=NOW,
        version=0,
        total=PAID,
        lines=(OrderLine("SKU", 1, PAID),),
    )
    order = Order.place(snapshot, gid=new_id(), now=NOW, payment_window=timedelta(minutes=30))
    order.pay(Payment(PAID, "PAY", NOW), at=NOW, actor="test")
    return order


def test_refunds_never_exceed_what_was_paid(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    engine = create_engine(database_url)
    loop.run_until_complete(upgrade_schema(engine, bootstrap.MIGRATIONS))
    sessions = session_factory(engine)
    freezes = RefundFreezes(lambda: OrdersUnitOfWork(sessions), FakeClock(NOW))

    class RefundInterleavings(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.order = _order()
            loop.run_until_complete(self._store())
            self.asked: dict[str, int] = {}  # branch -> amount it asked to freeze
            self.state: dict[str, FreezeState | None] = {}  # None: refused or never tried

        def _gid(self, branch: str) -> str:
            return f"{self.order.order_id}-{branch}"  # refunds of this example only

        async def _store(self) -> None:
            async with sessions() as session:
                await OrderRepository(session).add(self.order)
                await session.commit()

        def _call(self, call):  # type: ignore[no-untyped-def]
            try:
                return loop.run_until_complete(call), None
            except (DomainError, OrderNotFound) as err:
                return None, err

        @rule(branch=st.sampled_from("abcdef"), units=st.integers(1, 700))
        def try_freeze(self, branch: str, units: int) -> None:
            _, err = self._call(
                freezes.try_freeze(self._gid(branch), "o", self.order.order_id, Money(units, "CNY"))
            )
            if err is None and branch not in self.asked:
                self.asked[branch] = units
                self.state[branch] = FreezeState.FROZEN

        @rule(branch=st.sampled_from("abcdef"))
        def confirm(self, branch: str) -> None:
            _, err = self._call(freezes.confirm(self._gid(branch), "o"))
            if err is None and self.state.get(branch) is FreezeState.FROZEN:
                self.state[branch] = FreezeState.REFUNDED

        @rule(branch=st.sampled_from("abcdef"))
        def cancel(self, branch: str) -> None:
            _, err = self._call(freezes.cancel(self._gid(branch), "o"))
            if err is None and self.state.get(branch) is FreezeState.FROZEN:
                self.state[branch] = FreezeState.RELEASED
            if err is None:
                self.state.setdefault(branch, None)  # a later Try is refused

        @invariant()
        def amounts_balance(self) -> None:
            async def read() -> tuple[int, int]:
                async with sessions() as session:
                    row = (
                        await session.execute(
                            orders_table.select().where(
                                orders_table.c.order_id == self.order.order_id
                            )
                        )
                    ).one()
                return row.refunded_minor_units, row.refund_frozen_minor_units

            refunded, frozen = loop.run_until_complete(read())
            assert refunded >= 0 and frozen >= 0
            assert refunded + frozen <= PAID.minor_units
            expected_refunded = sum(
                self.asked[b] for b, s in self.state.items() if s is FreezeState.REFUNDED
            )
            expected_frozen = sum(
                self.asked[b] for b, s in self.state.items() if s is FreezeState.FROZEN
            )
            assert (refunded, frozen) == (expected_refunded, expected_frozen)

    try:
        run_state_machine_as_test(
            RefundInterleavings,
            settings=settings(
                max_examples=25,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )
    finally:
        loop.run_until_complete(engine.dispose())
        loop.close()
