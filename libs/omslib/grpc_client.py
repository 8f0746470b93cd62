"""Client channels to sibling services, traced, kept alive and carrying our identity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import grpc.aio

from omslib.security.config import GrpcSecurity, SecurityMode
from omslib.security.tokens import TokenSigner
from omslib.telemetry.instrument import instrument_grpc_client

# Detect dead peers (e.g. a replica killed without FIN) within ~80s on active
# calls; the server side (omslib.grpc_server) permits this ping rate.
CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.max_pings_without_data", 0),
    # Reconnect to a restarted peer within a second or so: gRPC's default backoff
    # grows to 120 s, during which every call fails fast although the peer is back.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1_000),
]


def insecure_channel(addr: str) -> grpc.aio.Channel:
    """A plaintext ``grpc.aio`` channel to ``host:port`` with tracing enabled."""
    # Must precede grpc.aio.insecure_channel(): the instrumentor wraps that factory.
    instrument_grpc_client()
    return grpc.aio.insecure_channel(addr, options=CHANNEL_OPTIONS)


def service_channel(addr: str, security: GrpcSecurity) -> grpc.aio.Channel:
    """A channel that proves who we are as ``security`` says (docs/security.md).

    mTLS: our certificate, the server's checked against the CA. Token: plaintext here
    (TLS ends in front of the service) with a signed token on every call. Bare: plaintext.
    """
    instrument_grpc_client()
    credentials = security.channel_credentials()
    if credentials is not None:
        options: list[tuple[str, Any]] = list(CHANNEL_OPTIONS)
        if security.server_name:
            options.append(("grpc.ssl_target_name_override", security.server_name))
        return grpc.aio.secure_channel(addr, credentials, options=options)
    if security.mode is SecurityMode.TOKEN and security.token_secret is not None:
        signer = TokenSigner(security.identity, security.token_secret)
        return grpc.aio.insecure_channel(
            addr, options=CHANNEL_OPTIONS, interceptors=_token_interceptors(signer.token)
        )
    return grpc.aio.insecure_channel(addr, options=CHANNEL_OPTIONS)


def _token_interceptors(token: Callable[[], str]) -> list[Any]:
    def with_token(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata["authorization"] = f"Bearer {token()}"
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )

    class UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
        async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            return await continuation(with_token(details), request)

    class UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
        async def intercept_unary_stream(
            self, continuation: Any, details: Any, request: Any
        ) -> Any:
            return await continuation(with_token(details), request)

    class StreamUnary(grpc.aio.StreamUnaryClientInterceptor):
        async def intercept_stream_unary(
            self, continuation: Any, details: Any, request_iterator: Any
        ) -> Any:
            return await continuation(with_token(details), request_iterator)

    class StreamStream(grpc.aio.StreamStreamClientInterceptor):
        async def intercept_stream_stream(
            self, continuation: Any, details: Any, request_iterator: Any
        ) -> Any:
            return await continuation(with_token(details), request_iterator)

    # grpc-stubs types the interceptors loosely; these are the four grpc.aio kinds.
    return [UnaryUnary(), UnaryStream(), StreamUnary(), StreamStream()]
