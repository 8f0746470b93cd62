"""Mutual TLS and service tokens with real certificates: who may call which RPC."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import grpc.aio
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from oms.orders.v1 import orders_service_pb2, orders_service_pb2_grpc
from omslib.grpc_client import service_channel
from omslib.grpc_server import GrpcService
from omslib.ids import new_id
from omslib.security import POLICY, is_allowed
from omslib.security.config import GrpcSecurity, SecuritySettings
from omslib.security.tokens import sign
from omslib.testing.certs import IssuedCert, LocalCA
from security_support import Pair, call_raw, every_method, put_stock, running_pair, sample_snapshot

SECRET = "s" * 40
REFUSED_IN_TRANSPORT = grpc.StatusCode.UNAVAILABLE


def as_caller(cert: IssuedCert, identity: str) -> GrpcSecurity:
    return SecuritySettings(**cert.env()).grpc_security(identity)


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path / "ca")


@pytest.fixture
async def mtls(
    ca: LocalCA, make_database_url: Callable[[str], str], redis_url: str
) -> AsyncIterator[Pair]:
    async with running_pair(
        make_database_url, redis_url, ca.issue("inventory").env(), ca.issue("orders").env()
    ) as pair:
        yield pair


@pytest.fixture
async def tokens(make_database_url: Callable[[str], str], redis_url: str) -> AsyncIterator[Pair]:
    env = {"OMS_SERVICE_TOKEN_SECRET": SECRET}
    async with running_pair(make_database_url, redis_url, env, env) as pair:
        yield pair


async def test_without_a_client_certificate_the_handshake_refuses_every_rpc(
    mtls: Pair, ca: LocalCA
) -> None:
    server_only = grpc.ssl_channel_credentials(root_certificates=ca.ca_file.read_bytes())
    for service in ("orders", "inventory"):
        async with grpc.aio.secure_channel(mtls.addr(service), server_only) as channel:
            for method in every_method(service):
                assert await call_raw(channel, method) == REFUSED_IN_TRANSPORT, method
        async with grpc.aio.insecure_channel(mtls.addr(service)) as plaintext:
            for method in every_method(service):
                assert await call_raw(plaintext, method) == REFUSED_IN_TRANSPORT, method


async def test_a_certificate_from_another_ca_is_refused(
    mtls: Pair, ca: LocalCA, tmp_path: Path
) -> None:
    forged = LocalCA(tmp_path / "forged").issue("operator")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca.ca_file.read_bytes(),
        private_key=forged.key_file.read_bytes(),
        certificate_chain=forged.cert_file.read_bytes(),
    )
    async with grpc.aio.secure_channel(mtls.addr("inventory"), credentials) as channel:
        for method in every_method("inventory"):
            assert await call_raw(channel, method) == REFUSED_IN_TRANSPORT, method


@pytest.mark.parametrize("identity", ["gateway", "mallory"])
async def test_an_identity_is_refused_every_rpc_outside_its_grant(
    mtls: Pair, ca: LocalCA, identity: str
) -> None:
    security = as_caller(ca.issue(identity), identity)
    for service in ("orders", "inventory"):
        async with service_channel(mtls.addr(service), security) as channel:
            for method in every_method(service):
                code = await call_raw(channel, method)
                if is_allowed(identity, method):
                    assert code not in (
                        grpc.StatusCode.PERMISSION_DENIED,
                        grpc.StatusCode.UNAUTHENTICATED,
                    ), method
                else:
                    assert code == grpc.StatusCode.PERMISSION_DENIED, method


async def test_the_gateway_is_refused_operator_rpcs(mtls: Pair, ca: LocalCA) -> None:
    security = as_caller(ca.issue("gateway"), "gateway")
    operator_rpcs = [
        "/oms.orders.v1.OrdersService/ApproveOrder",
        "/oms.orders.v1.OrdersService/RejectOrder",
        "/oms.orders.v1.OrdersService/RetryTransaction",
        "/oms.orders.v1.OrdersService/CancelOrder",
        "/oms.orders.v1.OrdersService/RecordPayment",
        "/oms.inventory.v1.InventoryService/SetStock",
        "/oms.inventory.v1.InventoryService/AdjustStock",
        "/oms.inventory.v1.InventoryService/UpsertWarehouse",
    ]
    for method in operator_rpcs:
        service = "orders" if ".orders." in method else "inventory"
        async with service_channel(mtls.addr(service), security) as channel:
            assert await call_raw(channel, method) == grpc.StatusCode.PERMISSION_DENIED


async def test_health_answers_any_authenticated_peer(mtls: Pair, ca: LocalCA) -> None:
    security = as_caller(ca.issue("mallory"), "mallory")
    async with service_channel(mtls.addr("orders"), security) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_services_present_their_certificates_to_each_other(mtls: Pair, ca: LocalCA) -> None:
    operator = as_caller(ca.issue("operator"), "operator")
    async with service_channel(mtls.addr("inventory"), operator) as channel:
        await put_stock(channel, "TEE-M", 5)
    gateway = as_caller(ca.issue("gateway"), "gateway")
    async with service_channel(mtls.addr("orders"), gateway) as channel:
        reply = await orders_service_pb2_grpc.OrdersServiceStub(channel).SyncPlatformOrder(
            orders_service_pb2.SyncPlatformOrderRequest(
                request_id=f"shop:{new_id()}", snapshot=sample_snapshot("A1", "TEE-M", 2)
            ),
            timeout=15,
        )
    # Reserving the stock took orders' own certificate at inventory.
    assert reply.order.lines[0].sku == "TEE-M"
    assert reply.order.name.startswith("orders/")


def _bad_tokens() -> dict[str, list[tuple[str, str]]]:
    now = int(time.time())
    claims = {"sub": "operator", "aud": "oms", "iat": now, "exp": now + 60}
    return {
        "none": [],
        "not bearer": [("authorization", sign("operator", SECRET.encode()))],
        "garbage": [("authorization", "Bearer not.a.token")],
        "wrong key": [("authorization", f"Bearer {sign('operator', b'k' * 40)}")],
        "expired": [
            ("authorization", f"Bearer {sign('operator', SECRET.encode(), now=now - 7200)}")
        ],
        "other audience": [
            ("authorization", "Bearer " + jwt.encode({**claims, "aud": "x"}, SECRET))
        ],
        "too long lived": [
            (
                "authorization",
                "Bearer " + jwt.encode({**claims, "exp": now + 86400 * 365}, SECRET),
            )
        ],
        "unsigned": [("authorization", "Bearer " + jwt.encode(claims, None, algorithm="none"))],
        "huge": [("authorization", "Bearer " + "a" * 6000)],
    }


@pytest.mark.parametrize("case", list(_bad_tokens()))
async def test_without_a_valid_token_every_rpc_is_unauthenticated(tokens: Pair, case: str) -> None:
    metadata = _bad_tokens()[case]
    for service in ("orders", "inventory"):
        async with grpc.aio.insecure_channel(tokens.addr(service)) as channel:
            for method in every_method(service):
                code = await call_raw(channel, method, metadata=metadata)
                assert code == grpc.StatusCode.UNAUTHENTICATED, (case, method)


async def test_a_gateway_token_is_refused_operator_rpcs_and_services_sign_their_calls(
    tokens: Pair,
) -> None:
    gateway = GrpcSecurity(identity="gateway", token_secret=SECRET.encode())
    async with service_channel(tokens.addr("inventory"), gateway) as channel:
        for method in every_method("inventory"):
            assert await call_raw(channel, method) == grpc.StatusCode.PERMISSION_DENIED
    operator = GrpcSecurity(identity="operator", token_secret=SECRET.encode())
    async with service_channel(tokens.addr("inventory"), operator) as channel:
        await put_stock(channel, "TEE-M", 5)
    async with service_channel(tokens.addr("orders"), gateway) as channel:
        stub = orders_service_pb2_grpc.OrdersServiceStub(channel)
        reply = await stub.SyncPlatformOrder(
            orders_service_pb2.SyncPlatformOrderRequest(
                request_id=f"shop:{new_id()}", snapshot=sample_snapshot("A2", "TEE-M", 1)
            ),
            timeout=15,
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ApproveOrder(
                orders_service_pb2.ApproveOrderRequest(name=reply.order.name, operator="x"),
                timeout=10,
            )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reply.order.lines[0].sku == "TEE-M"


async def test_bare_mode_refuses_to_listen_beyond_loopback() -> None:
    service = GrpcService(name="bare", host="0.0.0.0", port=0, error_domain="test.oms")
    with pytest.raises(RuntimeError, match="refusing to serve plaintext"):
        await service.start()


def test_the_policy_names_only_rpcs_that_exist() -> None:
    from security_support import SERVICES

    known = {f"{d.full_name}/{m.name}" for d in SERVICES.values() for m in d.methods}
    services = {d.full_name for d in SERVICES.values()}
    for identity, grants in POLICY.items():
        for grant in grants:
            service, _, method = grant.partition("/")
            assert grant in known or (method == "*" and service in services), (identity, grant)
