"""Barrier + a conditional stock update against a simple model (hypothesis).

Try/Confirm/Cancel for many branches are delivered duplicated, reordered and
interleaved; the final stock and the barrier rows must always match the model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omslib.clock import FakeClock
from omslib.db import create_engine, session_factory
from omslib.tcc import CANCEL, CONFIRM, TRY, Barrier, Guard, barrier_table
from sqlalchemy.ext.asyncio import AsyncSession

INITIAL = 6
NOW = datetime(2025, 1, 1, tzinfo=UTC)
metadata = sa.MetaData()
BARRIER = barrier_table(metadata)
STOCK = sa.Table(
    "stock",
    metadata,
    sa.Column("sku", sa.String(8), primary_key=True),
    sa.Column("available", sa.Integer, nullable=False),
    sa.Column("reserved", sa.Integer, nullable=False),
    sa.Column("deducted", sa.Integer, nullable=False),
    sa.CheckConstraint("available >= 0", name="ck_available"),
)
HELD = sa.Table(  # the participant's reservations
    "held",
    metadata,
    sa.Column("branch_id", sa.String(8), primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
)


# ----------------------------------------------------------------------- model
@dataclass
class ModelBranch:
    quantity: int
    try_row: str | None = None  # the "try" row's mark: try / confirm / cancel
    confirmed: bool = False
    cancelled: bool = False


@dataclass
class Model:
    available: int = INITIAL
    reserved: int = 0
    deducted: int = 0
    branches: dict[str, ModelBranch] = field(default_factory=dict)

    def apply(self, branch_id: str, op: str) -> None:
        b = self.branches[branch_id]
        if op == TRY:
            if b.try_row is not None or self.available < b.quantity:
                return
            b.try_row = TRY
            self.available -= b.quantity
            self.reserved += b.quantity
        elif op == CONFIRM:
            if b.cancelled or b.try_row != TRY or b.confirmed:
                return
            b.confirmed = True
            b.try_row = CONFIRM
            self.reserved -= b.quantity
            self.deducted += b.quantity
        else:
            if b.confirmed or b.cancelled:
                return
            b.cancelled = True
            had_try = b.try_row is not None
            b.try_row = CANCEL
            if had_try:
                self.available += b.quantity
                self.reserved -= b.quantity

    def rows(self) -> set[tuple[str, str, str]]:
        out = set()
        for bid, b in self.branches.items():
            if b.try_row:
                out.add((bid, TRY, b.try_row))
            if b.confirmed:
                out.add((bid, CONFIRM, CONFIRM))
            if b.cancelled:
                out.add((bid, CANCEL, CANCEL))
        return out


# ----------------------------------------------------------------- participant
class StockParticipant:
    def __init__(self, sessions: Callable[[], AsyncSession], clock: FakeClock) -> None:
        self._sessions = sessions
        self._barrier = Barrier(BARRIER)
        self._clock = clock

    async def call(self, branch_id: str, op: str, quantity: int) -> Guard | str:
        async with self._sessions() as s:
            now = self._clock.now()
            if op == TRY:
                guard = await self._barrier.guard_try(s, "g", branch_id, now=now)
                if guard is Guard.PROCEED:
                    moved = await s.execute(
                        sa.update(STOCK)
                        .where(STOCK.c.sku == "X", STOCK.c.available >= quantity)
                        .values(
                            available=STOCK.c.available - quantity,
                            reserved=STOCK.c.reserved + quantity,
                        )
                    )
                    if moved.rowcount != 1:  # type: ignore[attr-defined]
                        await s.rollback()  # refusal leaves no barrier row
                        return "INSUFFICIENT_STOCK"
                    await s.execute(
                        sa.insert(HELD).values(branch_id=branch_id, quantity=quantity, state="HELD")
                    )
            elif op == CONFIRM:
                guard = await self._barrier.guard_confirm(s, "g", branch_id, now=now)
                if guard is Guard.PROCEED:
                    await self._move(s, branch_id, "DEDUCTED")
            else:
                guard = await self._barrier.guard_cancel(s, "g", branch_id, now=now)
                if guard is Guard.PROCEED:
                    await self._move(s, branch_id, "RELEASED")
            await s.commit()
            return guard

    async def _move(self, s: AsyncSession, branch_id: str, to: str) -> None:
        q = (
            await s.execute(sa.select(HELD.c.quantity).where(HELD.c.branch_id == branch_id))
        ).scalar_one()
        values = (
            {"reserved": STOCK.c.reserved - q, "deducted": STOCK.c.deducted + q}
            if to == "DEDUCTED"
            else {"reserved": STOCK.c.reserved - q, "available": STOCK.c.available + q}
        )
        await s.execute(sa.update(STOCK).where(STOCK.c.sku == "X").values(**values))
        await s.execute(sa.update(HELD).where(HELD.c.branch_id == branch_id).values(state=to))


async def _fresh(url: str) -> tuple[object, Callable[[], AsyncSession]]:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        for table in (BARRIER, HELD, STOCK):
            await conn.execute(sa.delete(table))
        await conn.execute(
            sa.insert(STOCK).values(sku="X", available=INITIAL, reserved=0, deducted=0)
        )
    return engine, session_factory(engine)


async def _state(
    sessions: Callable[[], AsyncSession],
) -> tuple[tuple[int, int, int], set[tuple[str, str, str]]]:
    async with sessions() as s:
        st_row = (
            await s.execute(sa.select(STOCK.c.available, STOCK.c.reserved, STOCK.c.deducted))
        ).one()
        rows = (
            await s.execute(sa.select(BARRIER.c.branch_id, BARRIER.c.op, BARRIER.c.reason))
        ).all()
    return (st_row[0], st_row[1], st_row[2]), {tuple(r) for r in rows}  # type: ignore[misc]


branches_st = st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=6)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[int], list[tuple[int, str]]]:
    quantities = draw(branches_st)
    ops = st.tuples(st.integers(0, len(quantities) - 1), st.sampled_from([TRY, CONFIRM, CANCEL]))
    return quantities, draw(st.lists(ops, min_size=1, max_size=30))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=deliveries())
def test_any_delivery_order_matches_the_model(make_database_url, case) -> None:  # type: ignore[no-untyped-def]
    quantities, ops = case
    url = _url(make_database_url)

    async def run() -> None:
        engine, sessions = await _fresh(url)
        try:
            participant = StockParticipant(sessions, FakeClock(NOW))
            model = Model(branches={f"b{i}": ModelBranch(q) for i, q in enumerate(quantities)})
            for index, op in ops:
                bid = f"b{index}"
                await participant.call(bid, op, quantities[index])
                model.apply(bid, op)
            stock, rows = await _state(sessions)
            assert stock == (model.available, model.reserved, model.deducted)
            assert rows == model.rows()
        finally:
            await engine.dispose()  # type: ignore[attr-defined]

    asyncio.run(run())


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=deliveries())
def test_concurrent_duplicates_conserve_stock(make_database_url, case) -> None:  # type: ignore[no-untyped-def]
    """All deliveries at once (duplicated): stock is conserved and never negative."""
    quantities, ops = case
    url = _url(make_database_url)

    async def run() -> None:
        engine, sessions = await _fresh(url)
        try:
            participant = StockParticipant(sessions, FakeClock(NOW))
            calls = [participant.call(f"b{i}", op, quantities[i]) for i, op in ops + ops]
            await asyncio.gather(*calls)
            (available, reserved, deducted), rows = await _state(sessions)
            assert available >= 0 and reserved >= 0
            assert available + reserved + deducted == INITIAL
            async with sessions() as s:
                held = (await s.execute(sa.select(HELD.c.quantity, HELD.c.state))).all()
            assert reserved == sum(q for q, state in held if state == "HELD")
            assert deducted == sum(q for q, state in held if state == "DEDUCTED")
            # no hanging: a branch with a cancel row never holds or deducts
            cancelled = {b for b, op, _ in rows if op == CANCEL}
            confirmed = {b for b, op, _ in rows if op == CONFIRM}
            assert not cancelled & confirmed
        finally:
            await engine.dispose()  # type: ignore[attr-defined]

    asyncio.run(run())


async def test_purge_deletes_old_rows_in_small_batches(make_database_url) -> None:  # type: ignore[no-untyped-def]
    engine, sessions = await _fresh(make_database_url("purge"))
    barrier = Barrier(BARRIER)
    async with sessions() as s:
        for i in range(25):
            await barrier.insert(s, "g", f"b{i}", TRY, reason=TRY, now=NOW)
        await barrier.insert(s, "g", "new", TRY, reason=TRY, now=NOW + timedelta(days=8))
        await s.commit()
    deleted = await barrier.purge(
        sessions, older_than=NOW + timedelta(days=1), batch_size=10, max_batches=2
    )
    assert deleted == 20
    deleted = await barrier.purge(sessions, older_than=NOW + timedelta(days=1), batch_size=10)
    assert deleted == 5
    _, rows = await _state(sessions)
    assert rows == {("new", TRY, TRY)}
    await engine.dispose()


_urls: dict[int, str] = {}


def _url(factory: Callable[[str], str]) -> str:
    # one database per test (hypothesis runs many examples on it, cleaning in between)
    key = id(factory)
    if key not in _urls:
        _urls[key] = factory("barrier")
    return _urls[key]
