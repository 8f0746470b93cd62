"""Server reflection that answers for every symbol a client may name.

grpcio-reflection asks the descriptor pool for the file containing a symbol, and
the pool only knows messages, fields, enums, services and extensions: grpcurl's
``describe`` of a method (``pkg.Service.Method``) or of an enum value got
"Symbol not found". Such a symbol lives in the same file as its parent, so a miss
is retried with the last name component removed, as long as the parent is a
service, message or enum.
"""

from __future__ import annotations

from typing import Any

import grpc.aio
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2_grpc
from grpc_reflection.v1alpha._async import ReflectionServicer


class AnySymbolReflectionServicer(ReflectionServicer):
    """The stock asyncio reflection servicer, plus methods and enum values."""

    def __init__(self, service_names: list[str], pool: Any = None) -> None:
        super().__init__(service_names, pool=pool)
        self._symbols = pool or descriptor_pool.Default()

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        return super()._file_containing_symbol(request, self.resolvable(fully_qualified_name))

    def resolvable(self, name: str) -> str:
        """``name`` if the pool knows it, else the nearest parent that holds it (or ``name``)."""
        try:
            self._symbols.FindFileContainingSymbol(name)
            return name
        except KeyError:
            pass
        parent, _, child = name.rpartition(".")
        if not parent or not child:
            return name
        for holds in (_service_has_method, _enum_has_value, _message_has_member):
            if holds(self._symbols, parent, child):
                return parent
        return name


def _service_has_method(pool: Any, parent: str, child: str) -> bool:
    try:
        return child in pool.FindServiceByName(parent).methods_by_name
    except KeyError:
        return False


def _enum_has_value(pool: Any, parent: str, child: str) -> bool:
    try:
        return child in pool.FindEnumTypeByName(parent).values_by_name
    except KeyError:
        return False


def _message_has_member(pool: Any, parent: str, child: str) -> bool:
    try:
        message = pool.FindMessageTypeByName(parent)
    except KeyError:
        return False
    return child in message.fields_by_name or child in message.oneofs_by_name


def enable_reflection(service_names: list[str], server: grpc.aio.Server) -> None:
    """Serve reflection for ``service_names`` on ``server``."""
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        AnySymbolReflectionServicer(service_names), server
    )
