"""A real OTLP/gRPC trace receiver for tests: exporters send to it like to Jaeger."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc

SpanPredicate = Callable[["ReceivedSpan"], bool]


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span, flattened for assertions."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: str
    attributes: dict[str, Any] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)
    status_code: str = "STATUS_CODE_UNSET"


class OtlpReceiver:
    """Runs a threaded gRPC TraceService on 127.0.0.1:<free port>.

    Threaded on purpose: tests often block or busy their own event loop while
    spans are being exported.
    """

    def __init__(self) -> None:
        self._spans: list[ReceivedSpan] = []
        self._lock = threading.Condition()
        self._server: grpc.Server | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> str:
        """Serve on ``port`` (a free one by default; the same one again to come back)."""
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(self), server)
        self.port = server.add_insecure_port(f"127.0.0.1:{port}")
        server.start()
        self._server = server
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()

    def wait_for(
        self, predicate: SpanPredicate, timeout: float = 10.0, count: int = 1
    ) -> list[ReceivedSpan]:
        """Block until ``count`` received spans match ``predicate``; return those spans."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [s for s in self._spans if predicate(s)]
                remaining = deadline - time.monotonic()
                if len(found) >= count:
                    return found
                if remaining <= 0:
                    names = sorted({f"{s.service}:{s.name}" for s in self._spans})
                    raise TimeoutError(f"{len(found)}/{count} matching spans; received: {names}")
                self._lock.wait(remaining)

    async def wait_for_async(
        self,
        predicate: SpanPredicate,
        timeout: float = 10.0,  # noqa: ASYNC109 - the wait happens in a thread
        count: int = 1,
    ) -> list[ReceivedSpan]:
        """:meth:`wait_for` without blocking the running event loop."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout, count)

    def _add(self, spans: list[ReceivedSpan]) -> None:
        with self._lock:
            self._spans.extend(spans)
            self._lock.notify_all()


class _TraceService:
    def __init__(self, receiver: OtlpReceiver) -> None:
        self._receiver = receiver

    def Export(self, request: Any, context: Any) -> Any:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        self._receiver._add(_flatten(request))
        return trace_service_pb2.ExportTraceServiceResponse()


def _flatten(request: Any) -> list[ReceivedSpan]:
    from opentelemetry.proto.trace.v1 import trace_pb2

    out: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource = _attrs(resource_spans.resource.attributes)
        service = str(resource.get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                out.append(
                    ReceivedSpan(
                        service=service,
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        kind=trace_pb2.Span.SpanKind.Name(span.kind),
                        attributes=_attrs(span.attributes),
                        links=[(link.trace_id.hex(), link.span_id.hex()) for link in span.links],
                        status_code=trace_pb2.Status.StatusCode.Name(span.status.code),
                    )
                )
    return out


def _attrs(key_values: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in key_values}


def _value(value: Any) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return _attrs(value.kvlist_value.values)
    return getattr(value, which)
