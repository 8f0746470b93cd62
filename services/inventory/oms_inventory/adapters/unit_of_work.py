"""The inventory unit of work: omslib's session handling plus this service's repositories."""

from __future__ import annotations

from typing import Self

from google.protobuf.message import Message
from omslib.clock import Clock
from omslib.outbox import OutboxNotifier, OutboxUnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_inventory.adapters import orm
from oms_inventory.adapters.audit_repository import AuditRepository
from oms_inventory.adapters.barrier import BarrierRepository
from oms_inventory.adapters.request_log import RequestLog
from oms_inventory.adapters.reservation_repository import ReservationRepository
from oms_inventory.adapters.return_repository import ReturnRepository
from oms_inventory.adapters.stock_repository import StockRepository
from oms_inventory.adapters.warehouse_repository import WarehouseCache, WarehouseRepository

SOURCE = "inventory"


class InventoryUnitOfWork(OutboxUnitOfWork):
    """``async with uow:`` gives the repositories, all on one session and transaction.

    ``emit`` writes an event into the outbox in that transaction; a commit that
    carried events wakes the relay of this process (``OutboxUnitOfWork``).
    """

    warehouses: WarehouseRepository
    stock: StockRepository
    reservations: ReservationRepository
    returns: ReturnRepository
    audit: AuditRepository
    barrier: BarrierRepository
    requests: RequestLog

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        notifier: OutboxNotifier | None = None,
        clock: Clock | None = None,
        warehouse_cache: WarehouseCache | None = None,
    ) -> None:
        super().__init__(sessions, orm.outbox, notifier)
        self._clock = clock
        self._warehouse_cache = warehouse_cache

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.warehouses = WarehouseRepository(self.session, self._warehouse_cache)
        self.stock = StockRepository(self.session)
        self.reservations = ReservationRepository(self.session)
        self.returns = ReturnRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.barrier = BarrierRepository(self.session)
        self.requests = RequestLog(self.session)
        return self

    async def emit(
        self, stream: str, aggregate_type: str, aggregate_id: str, payload: Message
    ) -> None:
        await self.add_event(
            stream=stream,
            payload=payload,
            source=SOURCE,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            clock=self._clock,
        )

    async def commit(self) -> None:
        await super().commit()
        if self.warehouses.changed:
            self.warehouses.changed = False
            if self._warehouse_cache is not None:
                self._warehouse_cache.invalidate()
