"""The inventory unit of work: omslib's session handling plus this service's repositories."""

from __future__ import annotations

from typing import Self

from omslib.db import UnitOfWork

from oms_inventory.adapters.audit_repository import AuditRepository
from oms_inventory.adapters.barrier import BarrierRepository
from oms_inventory.adapters.request_log import RequestLog
from oms_inventory.adapters.reservation_repository import ReservationRepository
from oms_inventory.adapters.stock_repository import StockRepository
from oms_inventory.adapters.warehouse_repository import WarehouseRepository


class InventoryUnitOfWork(UnitOfWork):
    """``async with uow:`` gives the repositories, all on one session and transaction."""

    warehouses: WarehouseRepository
    stock: StockRepository
    reservations: ReservationRepository
    audit: AuditRepository
    barrier: BarrierRepository
    requests: RequestLog

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.warehouses = WarehouseRepository(self.session)
        self.stock = StockRepository(self.session)
        self.reservations = ReservationRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.barrier = BarrierRepository(self.session)
        self.requests = RequestLog(self.session)
        return self
