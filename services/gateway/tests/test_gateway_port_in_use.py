"""The gateway refuses a port another program holds, naming the variable to change."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from omslib.grpc_server.service import PortInUse


async def test_a_taken_port_is_refused_naming_oms_gateway_port(
    make_gateway: Any, orders: Any, shop_secret: str
) -> None:
    service, _ = orders
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(PortInUse) as refused:
            await make_gateway(
                f"127.0.0.1:{service.bound_port}", shop_secret, OMS_GATEWAY_PORT=port
            )
    assert f"127.0.0.1:{port}" in str(refused.value)
    assert "OMS_GATEWAY_PORT" in str(refused.value)
