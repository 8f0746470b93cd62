"""`oms inbox list/show/replay/import` against a running gateway (the CLI as a subprocess)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from oms_gateway.bootstrap import Running

Kit = Any
TOKEN = "cli-admin-token-0123456789"


@pytest.fixture
async def admin_gateway(make_gateway: Any, orders: Any, shop_secret: str) -> Running:
    service, _ = orders
    return await make_gateway(
        f"127.0.0.1:{service.bound_port}", shop_secret, OMS_GATEWAY_ADMIN_TOKEN=TOKEN
    )


async def oms(running: Running, *args: str, token: str = TOKEN) -> tuple[int, str]:
    env = dict(os.environ, OMS_GATEWAY_URL=running.base_url, OMS_GATEWAY_ADMIN_TOKEN=token)
    env["COLUMNS"] = "200"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "oms_cli.main", "inbox", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_import_list_show_and_replay_from_the_command_line(
    admin_gateway: Running, shop_secret: str, kit: Kit, tmp_path: Path
) -> None:
    lines = []
    for n in range(3):
        body, headers = kit.signed_push(shop_secret, kit.order_body(f"C{n}"), msg_id=f"msg_c{n}")
        lines.append({"method": "POST", "path": "/webhooks/shop", "headers": headers,
                      "body": body.decode()})  # fmt: skip
    lines.append(lines[0])  # a duplicate
    lines.append({**lines[1], "body": lines[1]["body"] + " "})  # tampered
    log = tmp_path / "access.jsonl"
    log.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")

    code, out = await oms(admin_gateway, "import", str(log), "--batch", "2")
    assert code == 0, out
    assert "accepted" in out and "duplicate" in out and "rejected" in out
    summary = out[out.index("import of") :]
    assert "3 │         1 │        2" in summary, out
    assert "INVALID_SIGNATURE" in out and "line 6: not JSON" in out

    code, out = await oms(admin_gateway, "list", "--platform", "shop", "--json")
    assert code == 0, out
    entries = json.loads(out)["entries"]
    assert sorted(e["event_id"] for e in entries) == ["msg_c0", "msg_c1", "msg_c2"]

    entry_id = entries[0]["id"]

    async def delivered() -> bool:
        _, out = await oms(admin_gateway, "show", entry_id, "--json")
        return json.loads(out)["state"] == "DELIVERED"

    await kit.eventually(delivered, what="delivery")
    code, out = await oms(admin_gateway, "show", entry_id)
    assert code == 0 and "delivery attempts" in out and "delivered" in out, out

    code, out = await oms(admin_gateway, "replay", entry_id)
    assert code == 0 and "replayed 1 entry" in out, out
    code, out = await oms(admin_gateway, "replay")
    assert code != 0


async def test_wrong_token_is_reported(admin_gateway: Running) -> None:
    code, out = await oms(admin_gateway, "list", token="wrong-token-wrong-token")
    assert code == 1
    assert "ADMIN_TOKEN_WRONG" in out and "wrong token" in out
    assert "OMS_GATEWAY_ADMIN_TOKEN" in out  # where the CLI took the token from
    assert "wrong-token-wrong-token" not in out
