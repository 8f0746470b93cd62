import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from omslib.errors import FailedPrecondition
from omslib.grpc_client import insecure_channel
from omslib.grpc_errors import remote_error
from omslib.grpc_server import GrpcService, run_until_signalled

SERVICE = "oms.test.v1.TestService"


class InsufficientStock(FailedPrecondition):
    reason = "INSUFFICIENT_STOCK"


class RawServicer:
    """A servicer over raw bytes, so no generated protos are needed."""

    async def echo(self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        if request == b"short":
            raise InsufficientStock("not enough of A", metadata={"sku": "A"})
        if request == b"bug":
            raise ZeroDivisionError("secret detail")
        return request

    async def count(
        self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[bytes]:
        for i in range(2):
            yield str(i).encode()
        if request == b"short":
            raise InsufficientStock("ran out mid-stream")


def add_raw_servicer(servicer: RawServicer, server: grpc.aio.Server) -> None:
    handlers = {
        "Echo": grpc.unary_unary_rpc_method_handler(servicer.echo),
        "Count": grpc.unary_stream_rpc_method_handler(servicer.count),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


@pytest.fixture
async def service() -> AsyncIterator[GrpcService]:
    svc = GrpcService(name="test", host="127.0.0.1", port=0, error_domain="test.oms")
    svc.add(add_raw_servicer, RawServicer(), SERVICE)
    await svc.start()
    yield svc
    await svc.stop(0)


@pytest.fixture
async def channel(service: GrpcService) -> AsyncIterator[grpc.aio.Channel]:
    async with insecure_channel(f"127.0.0.1:{service.bound_port}") as chan:
        yield chan


async def test_port_zero_binds_a_real_port(service: GrpcService) -> None:
    assert service.bound_port and service.bound_port > 0


async def test_health_is_serving_then_not_serving_during_stop(
    service: GrpcService, channel: grpc.aio.Channel
) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", SERVICE):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=name))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    watch = stub.Watch(health_pb2.HealthCheckRequest(service=SERVICE))
    assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
    stopping = asyncio.create_task(service.stop(grace=2))
    assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
    watch.cancel()
    await stopping


async def test_reflection_lists_services(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo()
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    reply = await call.read()
    await call.done_writing()
    names = {s.name for s in reply.list_services_response.service}
    assert names == {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}


async def test_domain_error_maps_to_code_and_error_info(channel: grpc.aio.Channel) -> None:
    echo = channel.unary_unary(f"/{SERVICE}/Echo")
    assert await echo(b"hi") == b"hi"
    with pytest.raises(grpc.aio.AioRpcError) as exc_info:
        await echo(b"short")
    err = remote_error(exc_info.value)
    assert err.code is grpc.StatusCode.FAILED_PRECONDITION
    assert (err.reason, err.domain, err.metadata) == (
        "INSUFFICIENT_STOCK",
        "test.oms",
        {"sku": "A"},
    )
    assert err.message == "not enough of A"


async def test_domain_error_in_stream_maps_after_items(channel: grpc.aio.Channel) -> None:
    count = channel.unary_stream(f"/{SERVICE}/Count")
    assert [item async for item in count(b"ok")] == [b"0", b"1"]
    received = []
    with pytest.raises(grpc.aio.AioRpcError) as exc_info:
        async for item in count(b"short"):
            received.append(item)
    assert received == [b"0", b"1"]
    assert remote_error(exc_info.value).reason == "INSUFFICIENT_STOCK"


async def test_unexpected_exception_is_internal_without_details(
    channel: grpc.aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(grpc.aio.AioRpcError) as exc_info:
        await channel.unary_unary(f"/{SERVICE}/Echo")(b"bug")
    err = remote_error(exc_info.value)
    assert err.code is grpc.StatusCode.INTERNAL
    assert err.reason is None
    assert "secret" not in err.message
    assert any(r.exc_info and "secret detail" in str(r.exc_info[1]) for r in caplog.records)


async def test_run_until_signalled_stops_on_sigterm_and_runs_callbacks() -> None:
    svc = GrpcService(name="sig", host="127.0.0.1", port=0, error_domain="test.oms")
    closed: list[str] = []

    async def close_pool() -> None:
        closed.append("pool")

    async def broken() -> None:
        raise RuntimeError("ignored")

    async def flush() -> None:
        closed.append("tracing")

    await svc.start()  # run_until_signalled also starts it when needed
    runner = asyncio.create_task(
        run_until_signalled(svc, grace=0.5, on_shutdown=[close_pool, broken, flush])
    )
    await asyncio.sleep(0)  # let the runner install its signal handlers
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(runner, timeout=10)
    assert closed == ["pool", "tracing"]
