"""Server interceptor turning exceptions raised by servicers into proper gRPC statuses."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn

import grpc
import grpc.aio
from opentelemetry import trace

from omslib.errors import DomainError
from omslib.grpc_errors import to_rpc_status
from omslib.grpc_server.handlers import rewrap

log = logging.getLogger(__name__)

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]]


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    """``DomainError`` -> its canonical code + ErrorInfo; anything else -> INTERNAL.

    Unexpected exceptions are logged with their traceback here and never sent to
    the client, which only sees ``INTERNAL: internal error``.
    """

    def __init__(self, error_domain: str) -> None:
        self._domain = error_domain

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler  # type: ignore[return-value]  # unknown method: grpc answers UNIMPLEMENTED
        return rewrap(handler, handler_call_details.method, self._wrap_unary, self._wrap_stream)

    def _wrap_unary(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                result = behavior(request, context)
                return await result if inspect.isawaitable(result) else result
            except Exception as exc:
                await self._abort(exc, context, method)

        return unary

    def _wrap_stream(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def stream(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            try:
                result = behavior(request, context)
                if hasattr(result, "__aiter__"):
                    async for item in result:
                        yield item
                elif inspect.isawaitable(result):
                    await result  # handler writes with context.write()
                else:
                    for item in result:
                        yield item
            except Exception as exc:
                await self._abort(exc, context, method)

        return stream

    async def _abort(
        self, exc: Exception, context: grpc.aio.ServicerContext[Any, Any], method: str
    ) -> NoReturn:
        if isinstance(exc, grpc.aio.AbortError):
            raise exc  # the servicer already chose a status
        if isinstance(exc, DomainError):
            # grpc-stubs lags behind grpc.aio, which has had abort_with_status for years.
            await context.abort_with_status(  # type: ignore[attr-defined]
                to_rpc_status(exc, self._domain)
            )
        if isinstance(exc, NotImplementedError):
            # Generated base servicers raise this for methods a service does not offer yet.
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented yet")
        log.exception("unhandled exception in %s", method, extra={"grpc_method": method})
        span = trace.get_current_span()
        span.record_exception(exc)
        span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
