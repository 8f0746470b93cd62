"""Reflection answers for every symbol of the served files: what `grpcurl describe` asks."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc.aio
import pytest
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from oms.inventory.v1 import inventory_service_pb2
from oms.orders.v1 import orders_service_pb2
from omslib.grpc_client import insecure_channel
from omslib.grpc_server import GrpcService

SERVED = [
    orders_service_pb2.DESCRIPTOR.services_by_name["OrdersService"],
    inventory_service_pb2.DESCRIPTOR.services_by_name["InventoryService"],
]


def _no_servicer(servicer: object, server: grpc.aio.Server) -> None:
    """Reflection only needs the name: no RPC is called here."""


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    service = GrpcService(name="t", host="127.0.0.1", port=0, error_domain="t.oms")
    for descriptor in SERVED:
        service.add(_no_servicer, None, descriptor.full_name)
    port = await service.start()
    async with insecure_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    await service.stop(0)


def _messages(messages: Any) -> Iterator[Any]:
    for message in messages:
        yield message
        yield from _messages(message.nested_types)


def every_symbol() -> list[str]:
    """Services, methods, messages, fields, enums and enum values of the served files."""
    pool = descriptor_pool.Default()
    files: dict[str, Any] = {}
    pending = [d.file for d in SERVED]
    while pending:
        file = pending.pop()
        if file.name not in files:
            files[file.name] = file
            pending.extend(file.dependencies)
    names: list[str] = []
    for file in files.values():
        if not file.package.startswith("oms."):
            continue
        for service in file.services_by_name.values():
            names += [service.full_name, *(m.full_name for m in service.methods)]
        enums = list(file.enum_types_by_name.values())
        for message in _messages(file.message_types_by_name.values()):
            names += [message.full_name, *(f.full_name for f in message.fields)]
            enums += message.enum_types
        for enum in enums:
            names += [enum.full_name, *(f"{enum.full_name}.{v.name}" for v in enum.values)]
    assert pool  # the generated modules registered the files in the default pool
    return names


async def test_every_symbol_of_the_served_files_is_found(channel: grpc.aio.Channel) -> None:
    symbols = every_symbol()
    assert "oms.orders.v1.OrdersService.GetOrder" in symbols
    assert "oms.orders.v1.OrderState.ORDER_STATE_PAID" in symbols
    call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo()
    missing = []
    for symbol in symbols:
        await call.write(reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol))
        reply = await call.read()
        if reply.HasField("error_response"):
            missing.append(symbol)
    await call.done_writing()
    assert missing == []


async def test_an_unknown_symbol_is_still_not_found(channel: grpc.aio.Channel) -> None:
    call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo()
    for symbol in ("oms.orders.v1.OrdersService.NoSuchMethod", "oms.orders.v1.Nope"):
        await call.write(reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol))
        reply = await call.read()
        assert reply.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    await call.done_writing()
