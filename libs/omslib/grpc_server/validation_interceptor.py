"""Server interceptor enforcing the protovalidate rules declared in the protos.

Every request is checked against its ``(buf.validate.*)`` annotations before the
servicer sees it; a request that breaks any rule answers INVALID_ARGUMENT with a
``google.rpc.BadRequest`` listing the fields, and nothing runs. Violation texts name
the rule (``must be at most 128 characters``), never the offending value, so an
answer stays small whatever the request held.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
import protovalidate
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from omslib.grpc_server.handlers import rewrap

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]]

#: Violations listed in one answer; a request breaking more rules reports the first ones.
MAX_VIOLATIONS = 20
#: Map keys named in a field path are cut to this length.
_MAX_KEY = 40

#: The reason the services already give invalid arguments (omslib.errors.InvalidArgument).
REASON = "INVALID_ARGUMENT"


class ValidationInterceptor(grpc.aio.ServerInterceptor):
    """INVALID_ARGUMENT with field violations for requests that break their proto rules."""

    def __init__(self, error_domain: str) -> None:
        self._domain = error_domain
        self._validator = protovalidate.Validator()

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_streaming:
            return handler  # type: ignore[return-value]
        return rewrap(
            handler,
            handler_call_details.method,
            self._wrap_unary,
            self._wrap_stream,
            request_deserializer=_tolerant(handler.request_deserializer),
        )

    def _wrap_unary(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            await self._check(request, context)
            result = behavior(request, context)
            return await result if inspect.isawaitable(result) else result

        return unary

    def _wrap_stream(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def stream(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            await self._check(request, context)
            result = behavior(request, context)
            if hasattr(result, "__aiter__"):
                async for item in result:
                    yield item
            elif inspect.isawaitable(result):
                await result
            else:
                for item in result:
                    yield item

        return stream

    async def _check(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        if isinstance(request, Undecodable):
            await self._refuse(context, [("", "is not a valid serialized request message")])
        if not hasattr(request, "DESCRIPTOR"):
            return  # raw bytes handlers (tests) carry no rules
        try:
            violations = self._validator.collect_violations(request)
        except protovalidate.EvaluationError:
            # A value the rules cannot even evaluate (e.g. a malformed timestamp).
            await self._refuse(context, [("", "could not be evaluated against its rules")])
            return
        if violations:
            await self._refuse(
                context,
                [(field_path(v), v.proto.message) for v in violations[:MAX_VIOLATIONS]],
            )
        malformed = malformed_times(request)
        if malformed:
            await self._refuse(context, [(malformed, "is not a valid timestamp or duration")])

    async def _refuse(
        self, context: grpc.aio.ServicerContext[Any, Any], violations: list[tuple[str, str]]
    ) -> None:
        bad = error_details_pb2.BadRequest()
        for field, description in violations:
            bad.field_violations.add(field=field, description=description)
        # "field" names the first offender, as the services' own InvalidArgument errors do.
        info = error_details_pb2.ErrorInfo(
            reason=REASON, domain=self._domain, metadata={"field": violations[0][0]}
        )
        summary = "; ".join(f"{f or 'request'}: {d}" for f, d in violations[:3])
        more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
        status = status_pb2.Status(
            code=code_pb2.INVALID_ARGUMENT, message=f"invalid request: {summary}{more}"
        )
        status.details.add().Pack(bad)
        status.details.add().Pack(info)
        await context.abort_with_status(rpc_status.to_status(status))  # type: ignore[attr-defined]


class Undecodable:
    """Stands for request bytes that do not parse, so they answer INVALID_ARGUMENT.

    grpc answers INTERNAL when a deserializer raises; bytes off the wire are the
    caller's fault, not ours.
    """


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:
            return Undecodable()

    return parse


_TIMESTAMP = "google.protobuf.Timestamp"
_DURATION = "google.protobuf.Duration"
# Timestamp's documented range (0001-01-01 to 9999-12-31) and Duration's (10,000 years).
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799
_MAX_DURATION_SECONDS = 315_576_000_000


def malformed_times(message: Any, prefix: str = "") -> str:
    """The path of the first Timestamp or Duration outside its documented range, or "".

    The rules see normalised times (nanos -1 reads as one nanosecond earlier) while
    converting one later raises, so the raw fields are checked here; protovalidate has
    already bounded the message's size.
    """
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        path = f"{prefix}{field.name}"
        items = value if field.is_repeated else [value]
        if field.message_type.GetOptions().map_entry:
            continue  # our requests carry no times in maps
        for index, item in enumerate(items):
            where = f"{path}[{index}]" if field.is_repeated else path
            kind = item.DESCRIPTOR.full_name
            if kind == _TIMESTAMP:
                if not (_MIN_SECONDS <= item.seconds <= _MAX_SECONDS and 0 <= item.nanos < 10**9):
                    return where
            elif kind == _DURATION:
                if not (
                    abs(item.seconds) <= _MAX_DURATION_SECONDS
                    and abs(item.nanos) < 10**9
                    and (
                        item.seconds == 0
                        or item.nanos == 0
                        or (item.seconds > 0) == (item.nanos > 0)
                    )
                ):
                    return where
            else:
                found = malformed_times(item, f"{where}.")
                if found:
                    return found
    return ""


def field_path(violation: protovalidate.Violation) -> str:
    """``snapshot.lines[0].sku`` for a violation (AIP-193 style field names)."""
    parts: list[str] = []
    path = violation.proto.field
    for element in path.elements if path is not None else ():
        name = element.field_name
        subscript = element.subscript
        if subscript is not None and subscript.field == "index":
            name += f"[{subscript.value}]"
        elif subscript is not None:
            name += f"[{str(subscript.value)[:_MAX_KEY]!r}]"
        parts.append(name)
    return ".".join(parts)
