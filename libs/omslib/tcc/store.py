"""Persistence of the coordinator log with optimistic versions and leases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from omslib.db.leases import Lease
from omslib.tcc.model import (
    RECOVERABLE_STATES,
    Branch,
    BranchState,
    GlobalTransaction,
    Phase,
    TransactionState,
)
from omslib.tcc.tables import CoordinatorTables


class TransactionStore:
    """Reads and writes one service's coordinator tables through a caller's session."""

    def __init__(self, tables: CoordinatorTables) -> None:
        self.tables = tables
        self._tx = tables.transactions
        self._br = tables.branches
        # Who drives a transaction now; "" (the column is NOT NULL) when nobody does.
        self._lease = Lease.on(self._tx, nobody="")
        # The statements of the hot path are built once, with bound parameters: building
        # and hashing a statement costs about as much CPU as executing it.
        t, b = self._tx.c, self._br.c
        self._insert_tx = sa.insert(self._tx)
        self._insert_branches = sa.insert(self._br)
        self._update_tx = (
            sa.update(self._tx)
            .where(t.gid == sa.bindparam("w_gid"), t.version == sa.bindparam("w_version"))
            .values({name: sa.bindparam(f"v_{name}") for name in _TX_COLUMNS})
        )
        self._update_branch = (
            sa.update(self._br)
            .where(b.gid == sa.bindparam("w_gid"), b.branch_id == sa.bindparam("w_branch_id"))
            .values(
                state=sa.bindparam("v_state"),
                attempts=sa.bindparam("v_attempts"),
                last_error=sa.bindparam("v_last_error"),
                update_time=sa.bindparam("v_update_time"),
            )
        )
        # A transaction and its branches in one statement: one row per branch (the
        # transaction's columns repeated), branch columns prefixed "b_".
        self._select_tx = (
            sa.select(self._tx, *(c.label(f"b_{c.name}") for c in self._br.c))
            .select_from(self._tx.outerjoin(self._br, b.gid == t.gid))
            .where(t.gid == sa.bindparam("w_gid"))
            .order_by(b.seq)
        )

    async def add(self, session: AsyncSession, tx: GlobalTransaction) -> None:
        await session.execute(self._insert_tx, _tx_row(tx))
        await self._write_branches(session, tx)

    async def save(self, session: AsyncSession, tx: GlobalTransaction) -> bool:
        """Write ``tx`` if nobody changed it since it was read; False when someone did."""
        params: dict[str, Any] = {f"v_{k}": v for k, v in _tx_row(tx).items()}
        params["v_version"] = tx.version + 1
        params["w_gid"] = tx.gid
        params["w_version"] = tx.version
        result = await session.execute(self._update_tx, params)
        if getattr(result, "rowcount", 0) != 1:
            return False
        tx.version += 1
        for b in tx.branches:
            if b.stored == b.row_values:
                continue  # unchanged since read or written: nothing to write
            await session.execute(
                self._update_branch,
                {
                    "w_gid": tx.gid,
                    "w_branch_id": b.branch_id,
                    "v_state": b.state.value,
                    "v_attempts": b.attempts,
                    "v_last_error": b.last_error[:2000],
                    "v_update_time": b.update_time,
                },
            )
            b.stored = b.row_values
        return True

    async def get(self, session: AsyncSession, gid: str) -> GlobalTransaction | None:
        rows = (await session.execute(self._select_tx, {"w_gid": gid})).all()
        if not rows:
            return None
        branches = [
            _branch(r, prefix="b_") for r in rows if getattr(r, "b_branch_id", None) is not None
        ]
        return self._build(rows[:1], [], branches={gid: branches})[0]

    async def page(
        self,
        session: AsyncSession,
        *,
        states: Sequence[TransactionState] = (),
        before_gid: str | None = None,
        limit: int = 100,
    ) -> list[GlobalTransaction]:
        """Newest first (gids are time-sortable), strictly older than ``before_gid``."""
        query = sa.select(self._tx).order_by(self._tx.c.gid.desc()).limit(limit)
        if states:
            query = query.where(self._tx.c.state.in_([s.value for s in states]))
        if before_gid is not None:
            query = query.where(self._tx.c.gid < before_gid)
        return await self._with_branches(session, (await session.execute(query)).all())

    async def due(self, session: AsyncSession, *, now: datetime, limit: int) -> list[str]:
        """Gids of unfinished transactions whose next attempt is due and that nobody leases."""
        c = self._tx.c
        rows = (
            await session.execute(
                sa.select(c.gid)
                .where(
                    c.state.in_([s.value for s in RECOVERABLE_STATES]),
                    c.next_attempt_time <= now,
                    self._lease.expired(now),
                )
                .order_by(c.next_attempt_time)
                .limit(limit)
            )
        ).all()
        return [str(r.gid) for r in rows]

    async def claim(
        self, session: AsyncSession, gid: str, *, owner: str, now: datetime, until: datetime
    ) -> bool:
        """Take the lease on ``gid`` with one conditional UPDATE; True when this call got it."""
        c = self._tx.c
        result = await session.execute(
            self._lease.claim(
                c.gid == gid,
                c.state.in_([s.value for s in RECOVERABLE_STATES]),
                c.next_attempt_time <= now,
                owner=owner,
                now=now,
                until=until,
                values={"version": c.version + 1},
            )
        )
        return getattr(result, "rowcount", 0) == 1

    async def take_back(self, session: AsyncSession, *, owner: str, now: datetime) -> int:
        """Make the rounds leased to ``owner`` (a killed predecessor in the same process
        slot) due now, their leases run out (the slot's name stays: this coordinator goes on
        with them as its own); how many."""
        c = self._tx.c
        result = await session.execute(
            self._lease.lapse(
                c.state.in_([TransactionState.CONFIRMING.value, TransactionState.CANCELLING.value]),
                owner=owner,
                values={"next_attempt_time": now, "version": c.version + 1},
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def counts_by_state(self, session: AsyncSession) -> dict[TransactionState, int]:
        c = self._tx.c
        rows = (await session.execute(sa.select(c.state, sa.func.count()).group_by(c.state))).all()
        return {TransactionState(r[0]): int(r[1]) for r in rows}

    async def _write_branches(self, session: AsyncSession, tx: GlobalTransaction) -> None:
        if not tx.branches:
            return
        for b in tx.branches:
            b.stored = b.row_values
        await session.execute(
            self._insert_branches,
            [
                {
                    "gid": tx.gid,
                    "branch_id": b.branch_id,
                    "seq": i,
                    "participant": b.participant,
                    "state": b.state.value,
                    "attempts": b.attempts,
                    "last_error": b.last_error,
                    "update_time": b.update_time,
                }
                for i, b in enumerate(tx.branches)
            ],
        )

    async def _with_branches(
        self, session: AsyncSession, rows: Sequence[sa.Row[Any]]
    ) -> list[GlobalTransaction]:
        if not rows:
            return []
        gids = [r.gid for r in rows]
        c = self._br.c
        branch_rows = (
            await session.execute(sa.select(self._br).where(c.gid.in_(gids)).order_by(c.gid, c.seq))
        ).all()
        return self._build(rows, branch_rows)

    @staticmethod
    def _build(
        rows: Sequence[sa.Row[Any]],
        branch_rows: Sequence[sa.Row[Any]],
        *,
        branches: dict[str, list[Branch]] | None = None,
    ) -> list[GlobalTransaction]:
        by_gid: dict[str, list[Branch]] = branches or {r.gid: [] for r in rows}
        for b in branch_rows:
            by_gid[b.gid].append(_branch(b))
        return [
            GlobalTransaction(
                gid=r.gid,
                kind=r.kind,
                subject=r.subject,
                state=TransactionState(r.state),
                create_time=r.create_time,
                update_time=r.update_time,
                branches=by_gid[r.gid],
                next_attempt_time=r.next_attempt_time,
                reason=r.reason,
                phase=Phase(r.phase or ""),
                attempts=r.attempts,
                lease_owner=r.lease_owner,
                lease_until=r.lease_until,
                version=r.version,
            )
            for r in rows
        ]


def _branch(row: sa.Row[Any], *, prefix: str = "") -> Branch:
    def value(name: str) -> Any:
        return getattr(row, prefix + name)

    branch = Branch(
        branch_id=value("branch_id"),
        participant=value("participant"),
        state=BranchState(value("state")),
        update_time=value("update_time"),
        attempts=value("attempts"),
        last_error=value("last_error"),
    )
    branch.stored = branch.row_values
    return branch


_TX_COLUMNS = (
    "gid",
    "kind",
    "subject",
    "state",
    "next_attempt_time",
    "reason",
    "create_time",
    "update_time",
    "phase",
    "attempts",
    "lease_owner",
    "lease_until",
    "version",
)


def _tx_row(tx: GlobalTransaction) -> dict[str, Any]:
    return {
        "gid": tx.gid,
        "kind": tx.kind,
        "subject": tx.subject,
        "state": tx.state.value,
        "next_attempt_time": tx.next_attempt_time,
        "reason": tx.reason[:4000],
        "create_time": tx.create_time,
        "update_time": tx.update_time,
        "phase": tx.phase.value,
        "attempts": tx.attempts,
        "lease_owner": tx.lease_owner,
        "lease_until": tx.lease_until,
        "version": tx.version,
    }
