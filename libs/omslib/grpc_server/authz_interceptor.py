"""Server interceptor: know the caller, then let it call only what the policy grants."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import grpc
import grpc.aio

from omslib.grpc_server.handlers import rewrap
from omslib.security.config import GrpcSecurity, SecurityMode
from omslib.security.policy import POLICY, is_allowed
from omslib.security.tokens import InvalidToken, verify

log = logging.getLogger(__name__)

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]]
#: The metadata key of a service token: ``authorization: Bearer <token>``.
TOKEN_METADATA_KEY = "authorization"
_BEARER = "bearer "


class AuthorizationInterceptor(grpc.aio.ServerInterceptor):
    """UNAUTHENTICATED without a valid identity, PERMISSION_DENIED outside the policy.

    In bare mode there are no identities and every call passes: the server then only
    listens on loopback (``GrpcSecurity.check_bind``).
    """

    def __init__(
        self, security: GrpcSecurity, policy: Mapping[str, frozenset[str]] = POLICY
    ) -> None:
        self._security = security
        self._policy = policy

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or self._security.mode is SecurityMode.BARE:
            return handler  # type: ignore[return-value]
        return rewrap(handler, handler_call_details.method, self._wrap_unary, self._wrap_stream)

    def _wrap_unary(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            await self._authorize(context, method)
            result = behavior(request, context)
            return await result if inspect.isawaitable(result) else result

        return unary

    def _wrap_stream(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def stream(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            await self._authorize(context, method)
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

    async def _authorize(self, context: grpc.aio.ServicerContext[Any, Any], method: str) -> None:
        if is_allowed("", method, self._policy):
            return  # health and reflection
        identity = self._identify(context)
        if identity is None:
            log.warning("refused %s: no valid caller identity", method)
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "a valid service identity is required"
            )
        if not is_allowed(identity, method, self._policy):
            shown = identity[:64]
            log.warning("refused %s to %r: not in the policy", method, shown)
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, f"{shown!r} may not call {method}"
            )

    def _identify(self, context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
        if self._security.mode is SecurityMode.MTLS:
            names = list(context.auth_context().get("x509_common_name") or [])
            return names[0].decode("utf-8", "replace") if names else None
        secret = self._security.token_secret
        assert secret is not None  # token mode
        for key, value in context.invocation_metadata() or ():
            if key == TOKEN_METADATA_KEY and isinstance(value, str):
                if value[: len(_BEARER)].lower() != _BEARER:
                    return None
                try:
                    return verify(value[len(_BEARER) :].strip(), secret)
                except InvalidToken:
                    return None
        return None
