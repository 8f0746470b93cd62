"""A gRPC service refuses a port another process holds, unless workers share it on purpose."""

import socket
from collections.abc import Iterator

import pytest
from omslib.grpc_server import GrpcService
from omslib.grpc_server.service import PortInUse


def _service(port: int, *, share_port: bool = False) -> GrpcService:
    return GrpcService(
        name="orders", host="127.0.0.1", port=port, error_domain="t.oms", share_port=share_port
    )


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port some other program listens on (a plain socket, as any program would)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


async def test_a_port_held_by_another_program_is_refused_naming_the_variable(
    held_port: int,
) -> None:
    service = _service(held_port)
    with pytest.raises(PortInUse) as refused:
        await service.start()
    message = str(refused.value)
    assert f"127.0.0.1:{held_port}" in message
    assert "OMS_ORDERS_PORT" in message
    assert refused.value.code != 0  # `python -m oms_orders` exits non-zero with this message


async def test_a_second_instance_of_a_service_is_refused() -> None:
    first = _service(0)
    port = await first.start()
    try:
        with pytest.raises(PortInUse):
            await _service(port).start()
    finally:
        await first.stop(0)


async def test_workers_of_one_service_share_the_port_on_purpose() -> None:
    first = _service(0, share_port=True)
    port = await first.start()
    second = _service(port, share_port=True)
    try:
        assert await second.start() == port
    finally:
        await second.stop(0)
        await first.stop(0)
