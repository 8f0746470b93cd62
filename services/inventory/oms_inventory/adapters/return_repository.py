"""Persistence of expected returns, their lines and the warehouse's receipts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from omslib.db.inserts import insert_if_absent
from sqlalchemy.ext.asyncio import AsyncSession

from oms_inventory.adapters.orm import (
    expected_return_lines,
    expected_returns,
    return_receipt_lines,
    return_receipts,
)
from oms_inventory.domain.reservation import BranchKey
from oms_inventory.domain.returns import (
    Condition,
    ExpectedLine,
    ExpectedReturn,
    Receipt,
    ReceiptLine,
    ReturnState,
)

_e = expected_returns.c
_l = expected_return_lines.c
_r = return_receipts.c
_rl = return_receipt_lines.c


class ReturnRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, expected: ExpectedReturn) -> None:
        key = {"gid": expected.branch.gid, "branch_id": expected.branch.branch_id}
        await self._session.execute(
            sa.insert(expected_returns).values(
                **key,
                order_id=expected.order_id,
                reservation_gid=expected.reservation_gid,
                state=expected.state.value,
                created_at=expected.created_at,
                updated_at=expected.updated_at,
            )
        )
        await self._session.execute(
            sa.insert(expected_return_lines),
            [
                {
                    **key,
                    "sku": line.sku,
                    "position": position,
                    "quantity": line.quantity,
                    "source_warehouses": list(line.source_warehouses),
                }
                for position, line in enumerate(expected.lines)
            ],
        )

    async def get(self, branch: BranchKey) -> ExpectedReturn | None:
        found = await self._load(sa.and_(_e.gid == branch.gid, _e.branch_id == branch.branch_id))
        return found[0] if found else None

    async def for_order(self, order_id: str, *, limit: int) -> list[ExpectedReturn]:
        """The order's returns, oldest first."""
        return await self._load(_e.order_id == order_id, limit=limit)

    async def open_for_order(self, order_id: str, *, limit: int) -> list[BranchKey]:
        rows = await self._session.execute(
            sa.select(_e.gid, _e.branch_id)
            .where(_e.order_id == order_id, _e.state == ReturnState.EXPECTED.value)
            .order_by(_e.created_at, _e.gid, _e.branch_id)
            .limit(limit)
        )
        return [BranchKey(row.gid, row.branch_id) for row in rows]

    async def for_reservation(self, reservation_gid: str) -> list[ExpectedReturn]:
        """Every return drawn on one reservation's deducted units."""
        return await self._load(_e.reservation_gid == reservation_gid)

    async def any_claim_on(self, reservation_gid: str) -> bool:
        """Whether a return not cancelled draws on the reservation's units."""
        query = (
            sa.select(sa.literal(1))
            .where(
                _e.reservation_gid == reservation_gid,
                _e.state != ReturnState.CANCELLED.value,
            )
            .limit(1)
        )
        return (await self._session.execute(query)).first() is not None

    async def hold_open(self, branch: BranchKey, now: datetime) -> bool:
        """Lock a still-expected return's row until commit; False when it is not open.

        A receipt holds it so that a concurrent Confirm (whose conditional UPDATE then
        waits) reads the receipt once it goes on, or the receipt finds it closed.
        """
        result = await self._session.execute(
            sa.update(expected_returns)
            .where(
                _e.gid == branch.gid,
                _e.branch_id == branch.branch_id,
                _e.state == ReturnState.EXPECTED.value,
            )
            .values(updated_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def transition(self, expected: ExpectedReturn, before: ReturnState) -> bool:
        """Store the new state only if the stored one is still ``before``."""
        result = await self._session.execute(
            sa.update(expected_returns)
            .where(
                _e.gid == expected.branch.gid,
                _e.branch_id == expected.branch.branch_id,
                _e.state == before.value,
            )
            .values(state=expected.state.value, updated_at=expected.updated_at)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def add_receipt(self, branch: BranchKey, receipt: Receipt) -> bool:
        """Store ``receipt`` unless its request id is taken; True when this call stored it."""
        stored = await insert_if_absent(
            self._session,
            return_receipts,
            {
                "request_id": receipt.request_id,
                "gid": branch.gid,
                "branch_id": branch.branch_id,
                "warehouse_code": receipt.warehouse_code,
                "actor": receipt.actor,
                "received_at": receipt.received_at,
            },
        )
        if stored:
            await self._session.execute(
                sa.insert(return_receipt_lines),
                [
                    {
                        "request_id": receipt.request_id,
                        "position": position,
                        "sku": line.sku,
                        "condition": line.condition.value,
                        "quantity": line.quantity,
                    }
                    for position, line in enumerate(receipt.lines)
                ],
            )
        return stored

    async def receipt(self, request_id: str) -> tuple[BranchKey, Receipt] | None:
        """The receipt stored under ``request_id``, with the return it belongs to."""
        query = sa.select(return_receipts).where(_r.request_id == request_id)
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        data = row._mapping
        receipts = await self._receipts([(data["gid"], data["branch_id"])], only=request_id)
        branch = BranchKey(data["gid"], data["branch_id"])
        return branch, receipts[(branch.gid, branch.branch_id)][0]

    async def _load(
        self, condition: sa.ColumnElement[bool], *, limit: int | None = None
    ) -> list[ExpectedReturn]:
        query = (
            sa.select(expected_returns)
            .where(condition)
            .order_by(_e.created_at, _e.gid, _e.branch_id)
        )
        if limit is not None:
            query = query.limit(limit)
        heads = [row._mapping for row in await self._session.execute(query)]
        if not heads:
            return []
        keys = [(h["gid"], h["branch_id"]) for h in heads]
        lines = await self._lines(keys)
        receipts = await self._receipts(keys)
        return [
            ExpectedReturn(
                branch=BranchKey(h["gid"], h["branch_id"]),
                order_id=h["order_id"],
                reservation_gid=h["reservation_gid"],
                state=ReturnState(h["state"]),
                lines=tuple(lines.get((h["gid"], h["branch_id"]), ())),
                receipts=tuple(receipts.get((h["gid"], h["branch_id"]), ())),
                created_at=h["created_at"],
                updated_at=h["updated_at"],
            )
            for h in heads
        ]

    async def _lines(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[ExpectedLine]]:
        rows = await self._session.execute(
            sa.select(expected_return_lines)
            .where(sa.tuple_(_l.gid, _l.branch_id).in_(keys))
            .order_by(_l.gid, _l.branch_id, _l.position)
        )
        found: dict[tuple[str, str], list[ExpectedLine]] = {}
        for row in rows:
            found.setdefault((row.gid, row.branch_id), []).append(
                ExpectedLine(row.sku, int(row.quantity), tuple(row.source_warehouses or ()))
            )
        return found

    async def _receipts(
        self, keys: Sequence[tuple[str, str]], *, only: str | None = None
    ) -> dict[tuple[str, str], list[Receipt]]:
        query = (
            sa.select(return_receipts, _rl.sku, _rl.condition, _rl.quantity)
            .join(return_receipt_lines, _rl.request_id == _r.request_id)
            .where(sa.tuple_(_r.gid, _r.branch_id).in_(keys))
            .order_by(_r.seq, _rl.position)
        )
        if only is not None:
            query = query.where(_r.request_id == only)
        heads: dict[str, Any] = {}
        lines: dict[str, list[ReceiptLine]] = {}
        for row in await self._session.execute(query):
            heads.setdefault(row.request_id, row._mapping)
            lines.setdefault(row.request_id, []).append(
                ReceiptLine(row.sku, Condition(row.condition), int(row.quantity))
            )
        found: dict[tuple[str, str], list[Receipt]] = {}
        for request_id, head in heads.items():  # in seq order (dicts keep insertion order)
            found.setdefault((head["gid"], head["branch_id"]), []).append(
                Receipt(
                    request_id=request_id,
                    warehouse_code=head["warehouse_code"],
                    lines=tuple(lines[request_id]),
                    actor=head["actor"],
                    received_at=head["received_at"],
                )
            )
        return found
