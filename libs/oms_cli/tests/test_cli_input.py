"""Bad command-line input gets a usage error that says what is wrong and what is valid,
before anything is sent; and what the commands print reads right."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from oms.orders.v1 import order_pb2
from oms_cli import render
from oms_cli.commands.inbox import attempts_summary
from oms_cli.logview import LogFollower
from oms_cli.main import app
from rich.console import Console
from typer.testing import CliRunner

# Nothing listens here: a command that got past its validation would fail differently.
NOWHERE = {
    "OMS_GATEWAY_URL": "http://127.0.0.1:9",
    "OMS_ORDERS_ADDR": "127.0.0.1:9",
    "OMS_GATEWAY_ADMIN_TOKEN": "a-token-for-a-gateway-nowhere",
}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={**NOWHERE, "COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("TEE-WHITE-M:-1", "quantity must be a whole number from 1"),
        ("TEE-WHITE-M:0", "quantity must be a whole number from 1"),
        ("TEE-WHITE-M:two", "quantity must be a whole number from 1"),
        ("TEE-WHITE-M", "expected SKU:QUANTITY"),
        (":2", "expected SKU:QUANTITY"),
    ],
)
def test_a_bad_sku_line_is_a_usage_error_naming_the_quantity(spec: str, says: str) -> None:
    code, out = run("send", "shop", "--sku", spec)
    assert code == 2
    assert says in " ".join(out.split())
    assert "cannot reach" not in out  # refused before anything was sent


@pytest.mark.parametrize(
    ("args", "valid"),
    [
        (["order", "list", "--state", "BOGUS"], ["PENDING_PAYMENT", "ALLOCATED", "CANCELLED"]),
        (["order", "list", "--platform", "ebay"], ["SHOP", "JD", "TAOBAO"]),
        (["tx", "list", "--state", "BOGUS"], ["PARKED"]),
        (["inbox", "list", "--state", "BOGUS"], ["RECEIVED", "DELIVERED", "DEAD"]),
    ],
)
def test_an_unknown_state_lists_the_valid_ones(args: list[str], valid: list[str]) -> None:
    code, out = run(*args)
    assert code == 2
    for name in valid:
        assert name in out
    assert "UNSPECIFIED" not in out


def test_send_pdd_explains_how_pinduoduo_delivers() -> None:
    code, out = run("send", "pdd")
    assert code == 2
    assert "WebSocket" in out and "OMS_PLATFORM_PDD_WS_URL" in out


def test_the_allocation_section_says_what_the_stock_is_in_each_state() -> None:
    assert "reserved" in render.allocation_title(order_pb2.ORDER_STATE_PENDING_PAYMENT)
    for state in (order_pb2.ORDER_STATE_ALLOCATED, order_pb2.ORDER_STATE_SHIPPED):
        assert "reserved" not in render.allocation_title(state)
    assert "released" in render.allocation_title(order_pb2.ORDER_STATE_CANCELLED)


def test_counts_read_as_english() -> None:
    assert render.plural(1, "entry", "entries") == "1 entry"
    assert render.plural(3, "entry", "entries") == "3 entries"


def test_attempts_agree_with_the_attempt_log() -> None:
    entry = {"attempts": 1, "delivery_attempts": [{}, {}]}
    assert attempts_summary(entry) == "1 since the last replay (2 in all, listed below)"
    assert attempts_summary({"attempts": 2, "delivery_attempts": [{}, {}]}) == "2"


def test_log_lines_written_to_a_file_are_not_wrapped(tmp_path: Path) -> None:
    log = tmp_path / "orders.log"
    log.write_text("")
    out = io.StringIO()
    follower = LogFollower({"orders": log}, Console(file=out, width=80))
    follower.start()
    message = "orders serving " + " ".join(f"key{n}=value{n}" for n in range(20))
    record = f'{{"ts": "2026-01-01T00:00:00", "level": "INFO", "msg": "{message}"}}\n'
    deadline = time.monotonic() + 10
    # The follower starts from the file's end when its thread first looks: keep
    # appending records until some are shown.
    while "value19" not in out.getvalue() and time.monotonic() < deadline:
        with log.open("a") as handle:
            handle.write(record)
        time.sleep(0.05)
    follower.stop()
    lines = out.getvalue().splitlines()
    assert lines, "the follower showed nothing"
    for line in lines:  # one screen line per record, however long
        assert line.startswith("orders") and line.rstrip().endswith("value19")
