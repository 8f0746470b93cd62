"""Rebuild an RPC method handler around wrapped behaviours (what server interceptors need)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

Behavior = Callable[..., Any]
#: ``(behavior, method) -> wrapped behavior``, one for unary and one for streaming answers.
Wrapper = Callable[[Behavior, str], Behavior]


def rewrap(
    handler: grpc.RpcMethodHandler,
    method: str,
    unary: Wrapper,
    stream: Wrapper,
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> grpc.RpcMethodHandler:
    """``handler`` with its behaviour wrapped: ``unary`` for unary answers, else ``stream``.

    ``request_deserializer`` replaces the handler's own when given.
    """
    common = {
        "request_deserializer": request_deserializer or handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(unary(handler.unary_unary, method), **common)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(unary(handler.stream_unary, method), **common)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(stream(handler.unary_stream, method), **common)
    if handler.stream_stream:
        return grpc.stream_stream_rpc_method_handler(
            stream(handler.stream_stream, method), **common
        )
    return handler
