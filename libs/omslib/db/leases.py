"""Leases: which worker may work on a row now, and until when.

A lease is two columns: its owner and the time it runs out. It is taken with one
conditional UPDATE (nobody holds a live lease, or, when asked, the caller already
does), so concurrent claimers get a row exactly once: on PostgreSQL a racing UPDATE
waits for the first writer and then checks its condition again against the row as
that writer left it; on SQLite writers take turns. Every later write of the holder
is made conditional on still holding it (``held_by``), so a worker whose lease ran
out and was taken over writes nothing. The clock is the caller's (``now``); the
replicas' clocks are trusted to agree within a fraction of a lease.

``Lease`` is for tables whose rows carry a lease (the gateway's inbox and poll
cursors, TCC transactions). ``LeaseRows`` is for a table whose rows *are* leases,
one per key, present only while leased (``outbox_leases``: relay aggregates and
named leases).

Values may be plain values or ``sa.bindparam``s, so a caller can build a statement
once and execute it with parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from omslib.db.inserts import dialect_insert

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Lease:
    """The lease columns of ``table``; ``nobody`` is the owner value of a row nobody
    holds (None, or "" where the column is NOT NULL)."""

    table: sa.Table
    owner: sa.Column[Any]
    until: sa.Column[Any]
    nobody: str | None = None

    @classmethod
    def on(
        cls,
        table: sa.Table,
        *,
        owner: str = "lease_owner",
        until: str = "lease_until",
        nobody: str | None = None,
    ) -> Lease:
        return cls(table, table.c[owner], table.c[until], nobody)

    def expired(self, now: Any) -> sa.ColumnElement[bool]:
        """Nobody holds a live lease at ``now``: never taken, released, or run out."""
        return sa.or_(self.until.is_(None), self.until < now)

    def held_by(self, owner: Any) -> sa.ColumnElement[bool]:
        """``owner`` holds the lease: the condition of every write of the holder."""
        return self.owner == owner

    def claimable(self, owner: Any, now: Any, *, again: bool = False) -> sa.ColumnElement[bool]:
        """Free or expired at ``now``, or (``again``) already ``owner``'s."""
        if again:
            return sa.or_(self.expired(now), self.held_by(owner))
        return self.expired(now)

    def taken(self, owner: Any, until: Any) -> dict[str, Any]:
        """Column values of a lease held by ``owner`` until ``until``."""
        return {self.owner.name: owner, self.until.name: until}

    def vacated(self) -> dict[str, Any]:
        """Column values of a row nobody holds."""
        return {self.owner.name: self.nobody, self.until.name: None}

    def claim(
        self,
        *where: Any,
        owner: Any,
        now: Any,
        until: Any,
        again: bool = False,
        values: Mapping[str, Any] | None = None,
    ) -> sa.Update:
        """UPDATE leasing the rows matching ``where`` that are claimable at ``now``
        (see ``claimable``) to ``owner`` until ``until``, writing ``values`` too; its
        rowcount is how many this call got."""
        return (
            sa.update(self.table)
            .where(*where, self.claimable(owner, now, again=again))
            .values({**self.taken(owner, until), **(values or {})})
        )

    def renew(
        self, *where: Any, owner: Any, until: Any, values: Mapping[str, Any] | None = None
    ) -> sa.Update:
        """UPDATE extending ``owner``'s lease on the matching rows to ``until``; a row
        another owner took over meanwhile is left alone (rowcount 0: the lease is lost)."""
        return (
            sa.update(self.table)
            .where(*where, self.held_by(owner))
            .values({self.until.name: until, **(values or {})})
        )

    def release(
        self, *where: Any, owner: Any, values: Mapping[str, Any] | None = None
    ) -> sa.Update:
        """UPDATE giving up ``owner``'s lease on the matching rows, writing ``values``
        (the holder's last word) in the same statement; rows it lost are left alone."""
        return (
            sa.update(self.table)
            .where(*where, self.held_by(owner))
            .values({**self.vacated(), **(values or {})})
        )

    def lapse(self, *where: Any, owner: Any, values: Mapping[str, Any] | None = None) -> sa.Update:
        """UPDATE ending ``owner``'s lease on the matching rows at once while its name
        stays on them: a successor in the same process slot (the same owner name) goes on
        with them as its own, and anyone may claim them now that they have run out."""
        return (
            sa.update(self.table)
            .where(*where, self.held_by(owner))
            .values({self.until.name: None, **(values or {})})
        )


@dataclass(frozen=True)
class LeaseRows:
    """A table whose rows are leases on keys (one row per leased key)."""

    lease: Lease
    key: tuple[sa.Column[Any], ...]

    @classmethod
    def on(
        cls,
        table: sa.Table,
        key: Sequence[str],
        *,
        owner: str = "owner",
        until: str = "lease_until",
    ) -> LeaseRows:
        return cls(Lease.on(table, owner=owner, until=until), tuple(table.c[k] for k in key))

    def matching(self, keys: Iterable[Key]) -> sa.ColumnElement[bool]:
        return sa.tuple_(*self.key).in_(list(keys))

    async def acquire(
        self, session: AsyncSession, keys: Iterable[Key], *, owner: str, now: Any, until: Any
    ) -> list[Key]:
        """Lease those of ``keys`` that nobody holds at ``now`` (or ``owner`` holds
        already) to ``owner`` until ``until``, in the caller's transaction; the keys
        this call got, sorted.

        Rows whose lease ran out are taken over (or renewed) by the conditional UPDATE
        of ``Lease.claim``; absent keys are inserted if still absent, in sorted order,
        one order for every caller, so racing inserts do not deadlock.
        """
        wanted = sorted(set(keys))
        if not wanted:
            return []
        lease = self.lease
        claimed = await session.execute(
            lease.claim(
                self.matching(wanted), owner=owner, now=now, until=until, again=True
            ).returning(*self.key)
        )
        got = {tuple(row) for row in claimed}
        absent = [k for k in wanted if k not in got]
        if absent:
            names = [c.name for c in self.key]
            inserted = await session.execute(
                dialect_insert(session, lease.table)
                .values(
                    [
                        {**dict(zip(names, k, strict=True)), **lease.taken(owner, until)}
                        for k in absent
                    ]
                )
                .on_conflict_do_nothing(index_elements=list(self.key))
                .returning(*self.key)
            )
            got.update(tuple(row) for row in inserted)
        return [k for k in wanted if k in got]

    def release(self, *, owner: str, keys: Iterable[Key] | None = None) -> sa.Delete:
        """DELETE of ``owner``'s leases (on ``keys`` only, when given)."""
        where = [self.lease.held_by(owner)]
        if keys is not None:
            where.append(self.matching(keys))
        return sa.delete(self.lease.table).where(*where)

    def purge_expired(self, now: Any) -> sa.Delete:
        """DELETE of the leases run out at ``now`` (left by workers that died)."""
        return sa.delete(self.lease.table).where(self.lease.expired(now))
