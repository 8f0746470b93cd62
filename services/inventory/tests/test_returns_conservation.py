"""Property (hypothesis): for any interleaving of expect / receive / confirm / cancel /
restock calls, repeated and reordered, against the real service, every answer is the one
a simple model gives and stock is conserved:

    on hand + deducted = initial + restocked (unshipped orders) + returned fit units
    damaged = returned damaged units
    per SKU, what returns claim (open: expected; confirmed: restocked + damaged) <= deducted
    the audit log's moves add up to the rows.

Each example uses its own SKUs, order and gids on one running service.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1 import inventory_service_pb2 as pb
from oms.inventory.v1 import inventory_service_pb2_grpc as pb_grpc
from oms.tcc.v1.tcc_pb2 import TccContext
from oms_inventory import bootstrap

SKUS = ("A", "B", "C")  # C is never sold: returns of it are refused, receipts are extras
INITIAL = {"A": {"HZ1": 5}, "B": {"HZ1": 2, "GZ1": 2}}
ORDERED = {"A": 3, "B": 3}
BRANCHES = 3
MAX_RECEIPTS = 20
FIT, BROKEN = ipb.RETURN_CONDITION_RESELLABLE, ipb.RETURN_CONDITION_DAMAGED
#: Answers a call may get besides OK: a business refusal, never INTERNAL or UNKNOWN.
REFUSALS = {
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT,
}
_examples = itertools.count()


# ------------------------------------------------------------------------ the model
@dataclass
class Branch:
    lines: dict[str, int]
    state: str | None = None  # expected / confirmed / cancelled
    cancelled_first: bool = False
    receipts: list[tuple[str, tuple[tuple[str, int, int], ...]]] = field(default_factory=list)

    def received(self, sku: str, condition: int) -> int:
        return sum(
            q for _, lines in self.receipts for s, q, c in lines if (s, c) == (sku, condition)
        )

    def outcome(self, sku: str) -> tuple[int, int]:
        """(restocked, damaged) of an expected SKU: fit units first, at most the expected."""
        fit = min(self.received(sku, FIT), self.lines[sku])
        return fit, min(self.received(sku, BROKEN), self.lines[sku] - fit)

    def claims(self, sku: str) -> int:
        if self.state == "expected":
            return self.lines.get(sku, 0)
        if self.state == "confirmed" and sku in self.lines:
            return sum(self.outcome(sku))
        return 0


@dataclass
class Model:
    branches: list[Branch]
    restocked: bool = False
    requests: dict[str, tuple[int, str, tuple[tuple[str, int, int], ...]]] = field(
        default_factory=dict
    )

    def apply(self, op: tuple[Any, ...]) -> bool:
        """Whether the call succeeds; the model moves as the service should."""
        kind, index = op[0], op[1]
        b = self.branches[index] if index >= 0 else None
        if kind == "try":
            assert b is not None
            if b.cancelled_first or b.state == "cancelled":
                return False  # a Try after its Cancel is refused (no hanging)
            if b.state is not None:
                return True  # a repeat
            others = [o for o in self.branches if o is not b]
            for sku, quantity in b.lines.items():
                left = ORDERED.get(sku, 0) - sum(o.claims(sku) for o in others)
                if self.restocked or quantity > left:
                    return False
            b.state = "expected"
            return True
        if kind == "confirm":
            assert b is not None
            if b.state in (None, "cancelled"):
                return False
            b.state = "confirmed"
            return True
        if kind == "cancel":
            assert b is not None
            if b.state is None:
                b.cancelled_first = True
                return True
            if b.state == "confirmed":
                return False
            b.state = "cancelled"
            return True
        if kind == "receive":
            assert b is not None
            _, _, request_id, warehouse, lines = op
            scan = (index, warehouse, tuple(sorted(lines)))
            if request_id in self.requests:
                return self.requests[request_id] == scan
            if b.state != "expected" or len(b.receipts) >= MAX_RECEIPTS:
                return False
            self.requests[request_id] = scan
            b.receipts.append((warehouse, lines))
            return True
        # restock of the order's reservation as never shipped
        if self.restocked or any(o.state in ("expected", "confirmed") for o in self.branches):
            return self.restocked  # a repeat answers it; returns refuse it
        self.restocked = True
        return True


# ---------------------------------------------------------------------- strategies
expect_lines = st.dictionaries(st.sampled_from(SKUS), st.integers(1, 3), min_size=1, max_size=3)
receipt_lines = st.dictionaries(
    st.tuples(st.sampled_from(SKUS), st.sampled_from([FIT, BROKEN])),
    st.integers(1, 2),
    min_size=1,
    max_size=3,
).map(lambda found: tuple(sorted((s, q, c) for (s, c), q in found.items())))
index = st.integers(0, BRANCHES - 1)
operation = st.one_of(
    st.tuples(st.just("try"), index),
    st.tuples(st.just("confirm"), index),
    st.tuples(st.just("cancel"), index),
    st.tuples(
        st.just("receive"),
        index,
        st.sampled_from(["q0", "q1", "q2", "q3"]),  # few ids: repeats and reuses happen
        st.sampled_from(["HZ1", "GZ1"]),
        receipt_lines,
    ),
    st.tuples(st.just("restock"), st.just(-1)),
)
cases = st.tuples(
    st.lists(expect_lines, min_size=BRANCHES, max_size=BRANCHES),
    st.lists(operation, min_size=1, max_size=25),
)


# ------------------------------------------------------------------ the real service
@dataclass
class Service:
    run: Callable[[Coroutine[Any, Any, Any]], Any]
    stub: Any


@pytest.fixture
def service(
    make_database_url: Callable[[str], str], redis_url: str, settings_for: Callable[..., Any]
) -> Iterator[Service]:
    """The service on a loop of this test's own (hypothesis calls the test synchronously)."""
    loop = asyncio.new_event_loop()
    settings_ = settings_for(make_database_url("inventory"), OMS_REDIS_URL=redis_url)
    running: bootstrap.Running = loop.run_until_complete(bootstrap.start(settings_))
    channel = loop.run_until_complete(_channel(running.addr))
    stub = pb_grpc.InventoryServiceStub(channel)
    try:
        loop.run_until_complete(_warehouses(stub))
        yield Service(loop.run_until_complete, stub)
    finally:
        loop.run_until_complete(channel.close())
        loop.run_until_complete(running.stop())
        loop.close()


async def _channel(addr: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(addr)


async def _warehouses(stub: Any) -> None:
    for code, province in (("HZ1", "Zhejiang"), ("GZ1", "Guangdong")):
        warehouse = ipb.Warehouse(code=code, display_name=code, province=province, active=True)
        await stub.UpsertWarehouse(pb.UpsertWarehouseRequest(warehouse=warehouse))


class Example:
    """One example's names (its own SKUs, order and gids) and calls."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub
        self.p = f"x{next(_examples)}-"

    def sku(self, name: str) -> str:
        return f"{self.p}{name}"

    def tcc(self, index: int) -> TccContext:
        return TccContext(gid=f"{self.p}r{index}", branch_id="inv")

    @property
    def reservation(self) -> TccContext:
        return TccContext(gid=f"{self.p}g", branch_id="inv")

    async def ship(self) -> None:
        for name, levels in INITIAL.items():
            for code, units in levels.items():
                await self.stub.SetStock(
                    pb.SetStockRequest(
                        sku=self.sku(name),
                        warehouse_code=code,
                        on_hand=units,
                        reason=ipb.ADJUSTMENT_REASON_RECEIVED,
                        actor="operator:test",
                        request_id=f"{self.p}{name}{code}",
                    )
                )
        lines = [pb.ReserveLine(sku=self.sku(n), quantity=q) for n, q in ORDERED.items()]
        await self.stub.TryReserveStock(
            pb.TryReserveStockRequest(tcc=self.reservation, order_id=f"{self.p}o", lines=lines)
        )
        await self.stub.ConfirmReserveStock(pb.ConfirmReserveStockRequest(tcc=self.reservation))

    async def call(self, op: tuple[Any, ...], branches: list[dict[str, int]]) -> bool:
        """Whether the call succeeded (a refusal must be a business one)."""
        try:
            await self._send(op, branches)
        except grpc.aio.AioRpcError as err:
            assert err.code() in REFUSALS, (op, err.code(), err.details())
            return False
        return True

    async def _send(self, op: tuple[Any, ...], branches: list[dict[str, int]]) -> None:
        kind, index = op[0], op[1]
        if kind == "try":
            lines = [
                pb.ExpectReturnLine(sku=self.sku(s), quantity=q) for s, q in branches[index].items()
            ]
            await self.stub.TryExpectReturn(
                pb.TryExpectReturnRequest(
                    tcc=self.tcc(index),
                    order_id=f"{self.p}o",
                    reservation_gid=f"{self.p}g",
                    lines=lines,
                )
            )
        elif kind == "confirm":
            await self.stub.ConfirmExpectReturn(pb.ConfirmExpectReturnRequest(tcc=self.tcc(index)))
        elif kind == "cancel":
            await self.stub.CancelExpectReturn(pb.CancelExpectReturnRequest(tcc=self.tcc(index)))
        elif kind == "receive":
            _, _, request_id, warehouse, lines = op
            await self.stub.ReceiveReturn(
                pb.ReceiveReturnRequest(
                    tcc=self.tcc(index),
                    warehouse_code=warehouse,
                    lines=[
                        ipb.ReturnReceiptLine(sku=self.sku(s), quantity=q, condition=c)
                        for s, q, c in lines
                    ],
                    request_id=f"{self.p}{request_id}",
                )
            )
        else:
            await self.stub.RestockReservation(
                pb.RestockReservationRequest(tcc=self.reservation, reason="order ended unshipped")
            )

    async def returns(self) -> dict[str, ipb.ExpectedReturn]:
        try:
            reply = await self.stub.GetExpectedReturn(
                pb.GetExpectedReturnRequest(order_id=f"{self.p}o")
            )
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.NOT_FOUND
            return {}
        return {r.gid: r for r in reply.expected_returns}

    async def check_conserved(self) -> dict[str, ipb.ExpectedReturn]:
        """The books balance; the returns found, by gid."""
        found = await self.returns()
        reservation = await self.stub.GetReservation(pb.GetReservationRequest(tcc=self.reservation))
        restocked = reservation.reservation.state == ipb.RESERVATION_STATE_RESTOCKED
        open_or_done = [r for r in found.values() if r.state != ipb.EXPECTED_RETURN_STATE_CANCELLED]
        assert not (restocked and open_or_done), "a unit came back twice"
        for name, levels in INITIAL.items():
            sku = self.sku(name)
            level = await self.stub.GetAvailability(pb.GetAvailabilityRequest(skus=[sku]))
            availability = level.availabilities[0]
            fit = broken = claimed = 0
            for r in open_or_done:
                for line in r.lines:
                    if line.sku != sku:
                        continue
                    fit, broken = fit + line.restocked, broken + line.damaged
                    confirmed = r.state == ipb.EXPECTED_RETURN_STATE_CONFIRMED
                    claimed += (
                        line.restocked + line.damaged if confirmed else line.expected_quantity
                    )
            initial = sum(levels.values())
            back = ORDERED[name] if restocked else 0
            assert availability.on_hand + ORDERED[name] == initial + back + fit, name
            assert availability.damaged == broken, name
            assert claimed <= ORDERED[name], name
            audit = await self.stub.ListStockAudit(
                pb.ListStockAuditRequest(sku=sku, page_size=1000)
            )
            assert sum(e.on_hand_after - e.on_hand_before for e in audit.entries) == (
                availability.on_hand
            )
            assert sum(e.damaged_after - e.damaged_before for e in audit.entries) == (
                availability.damaged
            )
        return found


# ------------------------------------------------------------------------ properties
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases)
def test_any_interleaving_answers_as_the_model_and_conserves_stock(service: Service, case) -> None:  # type: ignore[no-untyped-def]
    branches, ops = case
    example = Example(service.stub)
    model = Model([Branch(dict(lines)) for lines in branches])

    async def run() -> None:
        await example.ship()
        for op in ops:
            assert await example.call(op, branches) == model.apply(op), op
        found = await example.check_conserved()
        states = {
            "expected": ipb.EXPECTED_RETURN_STATE_EXPECTED,
            "confirmed": ipb.EXPECTED_RETURN_STATE_CONFIRMED,
            "cancelled": ipb.EXPECTED_RETURN_STATE_CANCELLED,
        }
        for i, b in enumerate(model.branches):
            got = found.get(f"{example.p}r{i}")
            if b.state is None:
                assert got is None
                continue
            assert got is not None and got.state == states[b.state]
            assert len(got.receipts) == len(b.receipts)
            if b.state == "confirmed":
                for line in got.lines:
                    name = line.sku.removeprefix(example.p)
                    assert (line.restocked, line.damaged) == b.outcome(name)
                    assert line.restocked + line.damaged + line.missing == line.expected_quantity

    service.run(run())


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases)
def test_concurrent_duplicated_calls_conserve_stock(service: Service, case) -> None:  # type: ignore[no-untyped-def]
    """Every call at once, each twice: whatever wins, the books balance."""
    branches, ops = case
    example = Example(service.stub)

    async def run() -> None:
        await example.ship()
        await asyncio.gather(*(example.call(op, branches) for op in ops + ops))
        await example.check_conserved()

    service.run(run())
