"""Use cases: set and adjust stock by hand (audited, idempotent by request id), read it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from oms_inventory.adapters.request_log import StoredRequest
from oms_inventory.adapters.unit_of_work import InventoryUnitOfWork
from oms_inventory.domain import stock as rules
from oms_inventory.domain.audit import AuditAction, AuditContext, AuditEntry, StockChange
from oms_inventory.domain.errors import (
    InvalidRequest,
    RequestIdReused,
    StockContention,
    UnknownSku,
    WarehouseNotFound,
)
from oms_inventory.domain.stock import AdjustmentReason, Availability, StockLevel
from oms_inventory.service_layer import events
from oms_inventory.service_layer.deps import MAX_ATTEMPTS, Deps

MAX_AVAILABILITY_SKUS = 500


@dataclass(frozen=True)
class StockChangeCommand:
    """SetStock (``amount`` is the new on hand) or AdjustStock (``amount`` is the delta)."""

    sku: str
    warehouse_code: str
    amount: int
    reason: AdjustmentReason
    note: str = ""
    actor: str = ""
    request_id: str = ""


# One attempt at a change: the stock change made, or None when a race was lost.
Attempt = Callable[[InventoryUnitOfWork, StockChangeCommand], Awaitable[StockChange | None]]


class StockService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def set_stock(self, command: StockChangeCommand) -> StockLevel:
        rules.validate_new_on_hand(command.amount)
        return await self._change(command, AuditAction.SET, self._set_once)

    async def adjust_stock(self, command: StockChangeCommand) -> StockLevel:
        rules.validate_delta(command.amount)
        return await self._change(command, AuditAction.ADJUST, self._adjust_once)

    async def get_stock(self, sku: str, warehouse_code: str) -> StockLevel:
        sku = rules.validate_sku(sku)
        async with self._deps.uow() as uow:
            return await _current_level(uow, sku, warehouse_code, require_known=True)

    async def availability(self, skus: list[str]) -> list[Availability]:
        if not 1 <= len(skus) <= MAX_AVAILABILITY_SKUS:
            raise InvalidRequest(
                f"between 1 and {MAX_AVAILABILITY_SKUS} SKUs", metadata={"field": "skus"}
            )
        wanted = [rules.validate_sku(sku, "skus") for sku in skus]
        async with self._deps.uow() as uow:
            levels = await uow.stock.for_skus(sorted(set(wanted)))
        by_sku: dict[str, list[StockLevel]] = {}
        for level in levels:
            by_sku.setdefault(level.sku, []).append(level)
        for sku in wanted:
            if sku not in by_sku:
                raise UnknownSku(f"no warehouse stocks SKU {sku}", metadata={"sku": sku})
        return [Availability(sku, tuple(by_sku[sku])) for sku in wanted]

    async def _change(
        self, command: StockChangeCommand, action: AuditAction, attempt: Attempt
    ) -> StockLevel:
        command = _validated(command)
        for _ in range(MAX_ATTEMPTS):
            async with self._deps.uow() as uow:
                if command.request_id and not await self._claim(uow, command, action):
                    return await self._repeat(uow, command, action)
                if await uow.warehouses.get(command.warehouse_code) is None:
                    raise WarehouseNotFound(
                        f"no warehouse {command.warehouse_code}",
                        metadata={"warehouse_code": command.warehouse_code},
                    )
                change = await attempt(uow, command)
                if change is None:
                    continue  # lost a race: roll back and look again
                now = self._deps.clock.now()
                context = AuditContext(
                    action=action,
                    actor=command.actor or "unknown",
                    reason=command.reason,
                    note=command.note,
                    trace_id=self._deps.trace_id(),
                )
                entry = AuditEntry.record(self._deps.new_id(), change, context, now)
                await uow.audit.add([entry])
                await events.stock_adjusted(uow, [entry])
                await events.availability_changed(uow, [change])
                await uow.commit()
                return StockLevel(
                    command.sku,
                    command.warehouse_code,
                    change.on_hand_after,
                    change.reserved_after,
                    now,
                )
        raise StockContention(f"stock of {command.sku} kept changing; retry")

    async def _set_once(
        self, uow: InventoryUnitOfWork, command: StockChangeCommand
    ) -> StockChange | None:
        now = self._deps.clock.now()
        await uow.stock.ensure(command.sku, command.warehouse_code, now)
        level = await _current_level(uow, command.sku, command.warehouse_code)
        rules.check_set(level, command.amount)
        return await uow.stock.set_on_hand(
            command.sku, command.warehouse_code, expected=level.on_hand, new=command.amount, now=now
        )

    async def _adjust_once(
        self, uow: InventoryUnitOfWork, command: StockChangeCommand
    ) -> StockChange | None:
        now = self._deps.clock.now()
        if command.amount > 0:
            await uow.stock.ensure(command.sku, command.warehouse_code, now)
        change = await uow.stock.add_on_hand(
            command.sku, command.warehouse_code, command.amount, now
        )
        if change is None:
            level = await _current_level(uow, command.sku, command.warehouse_code)
            rules.check_adjust(level, command.amount)  # raises unless a race was lost
        return change

    async def _claim(
        self, uow: InventoryUnitOfWork, command: StockChangeCommand, action: AuditAction
    ) -> bool:
        stored = StoredRequest(action.value, command.sku, command.warehouse_code)
        return await uow.requests.claim(command.request_id, stored, self._deps.clock.now())

    async def _repeat(
        self, uow: InventoryUnitOfWork, command: StockChangeCommand, action: AuditAction
    ) -> StockLevel:
        """A request id seen before: answer with the level now, apply nothing."""
        stored = await uow.requests.get(command.request_id)
        if stored != StoredRequest(action.value, command.sku, command.warehouse_code):
            raise RequestIdReused(
                f"request_id {command.request_id} was used for a different change",
                metadata={"request_id": command.request_id},
            )
        return await _current_level(uow, command.sku, command.warehouse_code)


def _validated(command: StockChangeCommand) -> StockChangeCommand:
    sku = rules.validate_sku(command.sku)
    code = command.warehouse_code.strip()
    if not code:
        raise InvalidRequest("warehouse_code is required", metadata={"field": "warehouse_code"})
    rules.validate_manual_change(command.reason, command.note)
    if len(command.request_id) > 128:
        raise InvalidRequest("request_id is too long", metadata={"field": "request_id"})
    return StockChangeCommand(
        sku, code, command.amount, command.reason, command.note, command.actor, command.request_id
    )


async def _current_level(
    uow: InventoryUnitOfWork, sku: str, warehouse_code: str, *, require_known: bool = False
) -> StockLevel:
    """The stored level; a pair never stocked reads as zero (unknown SKU/warehouse raise)."""
    level = await uow.stock.get(sku, warehouse_code)
    if level is not None:
        return level
    if require_known:
        if await uow.warehouses.get(warehouse_code) is None:
            raise WarehouseNotFound(
                f"no warehouse {warehouse_code}", metadata={"warehouse_code": warehouse_code}
            )
        if not await uow.stock.sku_known(sku):
            raise UnknownSku(f"no warehouse stocks SKU {sku}", metadata={"sku": sku})
    return StockLevel(sku, warehouse_code, 0, 0)
