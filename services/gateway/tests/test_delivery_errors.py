"""Which answers of orders dead-letter a push: only a genuinely invalid push is given
up on; our own transient states (a down service, a conflict, a transaction in flight,
an order dropped by a concurrent delivery) are retried until they pass.

Orders is the recording OrdersService from conftest (a real grpc.aio server) answering
with the error under test, then, for the retried ones, accepting the push.
"""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest
from oms_gateway.adapters.orders_errors import is_retryable
from oms_gateway.bootstrap import Running
from omslib.errors import (
    Aborted,
    AlreadyExists,
    DomainError,
    ErrorKind,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)

Kit = Any


class Internal(DomainError):
    kind = ErrorKind.INTERNAL
    reason = "INTERNAL"


TRANSIENT = [
    Unavailable("inventory did not answer", reason="INVENTORY_UNAVAILABLE"),
    Unavailable("try abandoned", reason="TRY_ABANDONED"),
    Aborted("changed meanwhile", reason="CONCURRENT_MODIFICATION"),
    ResourceExhausted("overloaded"),
    Internal("assert fresh is not None"),
    FailedPrecondition("moved meanwhile; retry", reason="TRANSACTION_CHANGED_CONCURRENTLY"),
    FailedPrecondition(
        "cannot move from CANCELLING to CANCELLING", reason="INVALID_TRANSACTION_TRANSITION"
    ),
    NotFound("order ord-9 not found", reason="ORDER_NOT_FOUND"),
]
PERMANENT = [
    InvalidArgument("lines[0].quantity must be positive", reason="INVALID_SNAPSHOT"),
    FailedPrecondition("cannot go back", reason="INVALID_TRANSITION"),
    FailedPrecondition("paid after cancellation", reason="PAYMENT_AFTER_CANCELLATION"),
    AlreadyExists("stored by another request", reason="ORDER_ALREADY_EXISTS"),
    NotFound("no such platform", reason="NOT_FOUND"),
]


async def push(running: Running, secret: str, kit: Kit, msg_id: str) -> None:
    body, headers = kit.signed_push(secret, kit.order_body("E1"), msg_id=msg_id)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        reply = await http.post("/webhooks/shop", content=body, headers=headers)
    assert reply.status_code == 202


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: e.reason)
async def test_our_own_transient_state_is_retried_until_delivered(
    make_gateway: Any, orders: Any, shop_secret: str, kit: Kit, error: DomainError
) -> None:
    service, recorder = orders
    recorder.fail, recorder.fail_times = error, 2
    # Three attempts would dead-letter anything counted as a rejection.
    running = await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, OMS_GATEWAY_RETRY_MAX_ATTEMPTS=3
    )
    await push(running, shop_secret, kit, f"msg_{error.reason}")

    async def delivered() -> bool:
        (row,) = await kit.inbox_rows(running)
        assert row.state != "DEAD", row.last_error
        return bool(row.state == "DELIVERED")

    await kit.eventually(delivered, what="delivered at the third attempt")
    (row,) = await kit.inbox_rows(running)
    assert (row.attempts, len(recorder.calls)) == (3, 3)


@pytest.mark.parametrize("error", PERMANENT, ids=lambda e: e.reason)
async def test_an_invalid_push_is_dead_after_one_attempt(
    gateway: Running, orders: Any, shop_secret: str, kit: Kit, error: DomainError
) -> None:
    _, recorder = orders
    recorder.fail = error
    await push(gateway, shop_secret, kit, f"msg_{error.reason}")

    async def dead() -> bool:
        return [row.state for row in await kit.inbox_rows(gateway)] == ["DEAD"]

    await kit.eventually(dead, what="DEAD")
    (row,) = await kit.inbox_rows(gateway)
    assert row.attempts == 1 and error.reason in row.last_error


@pytest.mark.parametrize(
    ("code", "reason", "retryable"),
    [
        (grpc.StatusCode.UNKNOWN, None, True),
        (grpc.StatusCode.CANCELLED, None, True),
        (grpc.StatusCode.DEADLINE_EXCEEDED, None, True),
        (grpc.StatusCode.FAILED_PRECONDITION, "PAYMENT_AMOUNT_MISMATCH", False),
        (grpc.StatusCode.FAILED_PRECONDITION, "PAYMENT_CONFLICT", False),
        (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED", False),
        (grpc.StatusCode.PERMISSION_DENIED, None, False),
        (grpc.StatusCode.UNIMPLEMENTED, None, False),
    ],
)
def test_codes_a_servicer_cannot_easily_raise_are_classified_too(
    code: grpc.StatusCode, reason: str | None, retryable: bool
) -> None:
    assert is_retryable(code, reason) is retryable
