# ruff: noqa: RUF001 - buyers write Chinese punctuation; the messages keep it.
"""The operator CLI against a real aftersales process: import phone calls twice (each call
recorded once), list, show, reply, resolve, and look at the caller's profile."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from oms_cli import render
from oms_cli.main import app
from oms_cli.stack import Stack, StackConfig
from omslib.testing.net import free_port
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def aftersales_addr(
    tmp_path: Path,
    make_database_url: Callable[[str], str],
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    monkeypatch.setattr(render.console, "width", 160)  # whole ticket ids in the tables
    config = StackConfig(
        var_dir=tmp_path / "var",
        ports={name: free_port() for name in ("gateway", "orders", "inventory", "aftersales")},
        database_urls={"aftersales": make_database_url("aftersales")},
        redis_url=redis_url,
    )
    stack = Stack(config)
    (config.var_dir / "logs").mkdir(parents=True)
    stack.start_service("aftersales")
    try:
        stack.wait_healthy("aftersales", timeout=60)
        yield stack.addr("aftersales")
    finally:
        stack.stop()


def summary(output: str) -> list[int]:
    """The counts row of the import summary table."""
    rows = [line for line in output.splitlines() if line.startswith("│")]
    return [int(cell) for cell in rows[-1].strip("│ ").split("│")]


def oms(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_import_calls_is_idempotent_and_tickets_are_worked_from_the_cli(
    aftersales_addr: str, tmp_path: Path
) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "caller": "13800000001",
                        "time": "2026-09-15T10:00:00+08:00",
                        "duration": 95,
                        "agent": "amy",
                        "transcript": "快递一直没到，什么情况",
                    }
                ),
                json.dumps(
                    {
                        "caller": "13800000002",
                        "time": "2026-09-15T10:05:00",
                        "duration": 30,
                        "agent": "amy",
                        "transcript": "想开个发票",
                    }
                ),
                json.dumps(
                    {
                        "caller": "not-a-phone",
                        "time": "2026-09-15T10:06:00",
                        "duration": 1,
                        "agent": "amy",
                        "transcript": "?",
                    }
                ),
                "{broken",
            ]
        ),
        encoding="utf-8",
    )
    first = oms("ticket", "import-calls", str(calls), "--aftersales", aftersales_addr)
    again = oms("ticket", "import-calls", str(calls), "--aftersales", aftersales_addr)

    # opened, joined, duplicate, rejected
    assert summary(first) == [2, 0, 0, 2]
    assert "caller must be a phone number" in first and "not JSON" in first
    assert summary(again) == [0, 0, 2, 2]
    listed = oms("ticket", "list", "--aftersales", aftersales_addr, "--newest")
    assert "INV-001" in listed and "LOG-001" in listed

    ticket_id = next(
        line.split("│")[1].strip() for line in listed.splitlines() if "INV-001" in line
    )
    oms("ticket", "assign", ticket_id, "bob", "--aftersales", aftersales_addr)
    replied = oms(
        "ticket",
        "reply",
        ticket_id,
        "--template",
        "received",
        "--as",
        "bob",
        "--aftersales",
        aftersales_addr,
    )
    assert "3 个工作日内开具" in replied
    oms(
        "ticket",
        "resolve",
        ticket_id,
        "--resolution",
        "issued",
        "--as",
        "bob",
        "--aftersales",
        aftersales_addr,
    )
    shown = oms("ticket", "show", ticket_id, "--aftersales", aftersales_addr)
    assert "first-contact resolution: yes" in shown
    assert "assigned" in shown and "resolved" in shown

    call_ticket = next(
        line.split("│")[1].strip() for line in listed.splitlines() if "LOG-001" in line
    )
    call_shown = oms("ticket", "show", call_ticket, "--aftersales", aftersales_addr)
    assert "call 95 s taken by amy" in call_shown
    assert "amy: 快递一直没到" in call_shown

    profile = oms("profile", "get", "--phone", "13800000002", "--aftersales", aftersales_addr)
    assert "tickets 1" in profile and "PHONE 1" in profile


def test_unknown_ticket_is_a_clear_error(aftersales_addr: str) -> None:
    result = runner.invoke(app, ["ticket", "show", "NOPE", "--aftersales", aftersales_addr])
    assert result.exit_code == 1
