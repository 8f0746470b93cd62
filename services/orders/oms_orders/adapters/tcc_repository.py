"""Persistence of the coordinator's log, through the generic ``omslib.tcc`` store."""

from __future__ import annotations

from collections.abc import Sequence

from omslib.tcc import TransactionStore
from sqlalchemy.ext.asyncio import AsyncSession

from oms_orders.adapters.orm import TCC_TABLES
from oms_orders.domain.errors import ConcurrentModification
from oms_orders.domain.tcc import GlobalTransaction, TransactionState

STORE = TransactionStore(TCC_TABLES)


class TransactionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, tx: GlobalTransaction) -> None:
        await STORE.add(self._session, tx)

    async def save(self, tx: GlobalTransaction) -> None:
        if not await STORE.save(self._session, tx):
            raise ConcurrentModification(
                f"transaction {tx.gid} changed concurrently", metadata={"gid": tx.gid}
            )

    async def get(self, gid: str) -> GlobalTransaction | None:
        return await STORE.get(self._session, gid)

    async def page(
        self, *, states: Sequence[TransactionState], before_gid: str | None, limit: int
    ) -> list[GlobalTransaction]:
        return await STORE.page(self._session, states=states, before_gid=before_gid, limit=limit)
