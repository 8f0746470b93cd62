"""`oms refund ...` against the running refund stack: request, list, show, approve, reject."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from oms.aftersales.v1 import aftersales_pb2 as apb
from oms.aftersales.v1 import aftersales_service_pb2 as apb_svc
from oms_cli import render
from oms_cli.main import app
from typer.testing import CliRunner

runner = CliRunner()


async def oms(*args: str) -> str:
    # The CLI runs its own event loop: in a thread, beside the servers' loop.
    result = await asyncio.to_thread(runner.invoke, app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def test_refunds_are_requested_and_decided_from_the_cli(
    refund_stack, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(render.console, "width", 200)
    s = refund_stack
    addr = ("--aftersales", s.aftersales_addr)
    await s.put_stock("TEE", 10)
    order = await s.paid_order("D1", [("TEE", 2)], shipped=True)
    out = await oms(
        "refund", "request", order.order_id, "--amount", "10.00", "--shipping", "2.50", *addr
    )
    refund_id = re.search(r"refunds/(\w+)", out).group(1)  # type: ignore[union-attr]
    assert "REQUESTED" in out and "12.50 CNY" in out
    second = await oms("refund", "request", order.order_id, "--amount", "1.00", *addr)
    other = re.search(r"refunds/(\w+)", second).group(1)  # type: ignore[union-attr]
    listed = await oms("refund", "list", "--state", "REQUESTED", "--order", order.order_id, *addr)
    assert refund_id in listed and other in listed
    approved = await oms("refund", "approve", refund_id, "--as", "agent:li", *addr)
    assert "REFUNDED" in approved and "agent:li" in approved
    rejected = await oms("refund", "reject", other, "--reason", "duplicate ask", *addr)
    assert "REJECTED" in rejected and "duplicate ask" in rejected
    shown = json.loads(await oms("refund", "show", refund_id, "--json", *addr))
    assert shown["refund"]["state"] == "REFUND_STATE_REFUNDED"
    assert [a["toState"] for a in shown["audit"]][-1] == "REFUND_STATE_REFUNDED"
    assert sum(s.payments.payments.values()) == 1
    bad = await asyncio.to_thread(
        runner.invoke, app, ["refund", "request", order.order_id, "--amount", "1.005", *addr]
    )
    assert bad.exit_code != 0 and "at most 2 decimals" in bad.output


async def test_a_ticket_shows_its_refunds(refund_stack, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(render.console, "width", 200)
    s = refund_stack
    addr = ("--aftersales", s.aftersales_addr)
    await s.put_stock("TEE", 10)
    order = await s.paid_order("D2", [("TEE", 1)])
    ticket = (
        await s.aftersales.CreateTicket(
            apb_svc.CreateTicketRequest(
                request_id="cli-d2",
                channel=apb.CHANNEL_PHONE,
                customer=apb.CustomerIdentity(phone="13800000000"),
                order=order.name,
                text="please refund",
            )
        )
    ).ticket
    out = await oms(
        "refund", "request", order.order_id, "--amount", "5.00", "--ticket", ticket.ticket_id, *addr
    )
    refund_name = re.search(r"refunds/\w+", out).group(0)  # type: ignore[union-attr]
    shown = await oms("ticket", "show", ticket.ticket_id, *addr)
    (line,) = [x for x in shown.splitlines() if refund_name in x]
    assert "REFUNDED" in line and "5.00 CNY" in line and "payment_api" in line
